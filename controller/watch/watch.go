// Package watch keeps client-go informer caches of everything the model reads
// and calls OnChange on every real change; Snapshot reads the caches. No
// polling: informers watch, and resyncs are off.
package watch

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/external-haproxy/kit/controller/ingressclass"
	"github.com/external-haproxy/kit/controller/model"
)

// Config says what to watch.
type Config struct {
	Client             kubernetes.Interface
	Namespace          string // --watch-namespace; empty: all
	ConfigMapNamespace string // --configmap; empty name: none
	ConfigMapName      string
	Classes            ingressclass.Selector
	OnChange           func()
}

// Watcher holds the informer caches.
type Watcher struct {
	cfg                                                       Config
	factories                                                 []informers.SharedInformerFactory
	ingresses, classes, services, slices, secrets, configMaps cache.SharedIndexInformer
}

// New sets up the informers; nothing is watched before Start.
func New(cfg Config) *Watcher {
	w := &Watcher{cfg: cfg}
	ns := informers.WithNamespace(cfg.Namespace)
	objects := informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0, ns)
	// Only TLS Secrets: the model reads nothing else, and caching every
	// Secret of the cluster would cost memory and widen what we hold.
	tls := informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0, ns, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("type", string(corev1.SecretTypeTLS)).String()
	}))
	cluster := informers.NewSharedInformerFactory(cfg.Client, 0)
	w.factories = []informers.SharedInformerFactory{objects, tls, cluster}
	w.ingresses = objects.Networking().V1().Ingresses().Informer()
	w.services = objects.Core().V1().Services().Informer()
	w.slices = objects.Discovery().V1().EndpointSlices().Informer()
	w.secrets = tls.Core().V1().Secrets().Informer()
	w.classes = cluster.Networking().V1().IngressClasses().Informer()
	if cfg.ConfigMapName != "" {
		one := informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0, informers.WithNamespace(cfg.ConfigMapNamespace),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermEqualSelector("metadata.name", cfg.ConfigMapName).String()
			}))
		w.factories = append(w.factories, one)
		w.configMaps = one.Core().V1().ConfigMaps().Informer()
	}
	for _, inf := range w.informers() {
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(any) { cfg.OnChange() },
			UpdateFunc: func(old, cur any) {
				// Equal resourceVersions are relists after a reconnect, not changes.
				if o, err := meta.Accessor(old); err == nil {
					if c, err := meta.Accessor(cur); err == nil && o.GetResourceVersion() == c.GetResourceVersion() {
						return
					}
				}
				cfg.OnChange()
			},
			DeleteFunc: func(any) { cfg.OnChange() },
		})
	}
	return w
}

func (w *Watcher) informers() []cache.SharedIndexInformer {
	out := []cache.SharedIndexInformer{w.ingresses, w.classes, w.services, w.slices, w.secrets}
	if w.configMaps != nil {
		out = append(out, w.configMaps)
	}
	return out
}

// Start runs the informers until ctx ends and waits for the first full list,
// so that the first update never sees a partial cluster.
func (w *Watcher) Start(ctx context.Context, timeout time.Duration) error {
	for _, f := range w.factories {
		f.Start(ctx.Done())
	}
	syncCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var synced []cache.InformerSynced
	for _, inf := range w.informers() {
		synced = append(synced, inf.HasSynced)
	}
	if !cache.WaitForCacheSync(syncCtx.Done(), synced...) {
		return fmt.Errorf("informer caches not synced after %v: check --kubeconfig and RBAC", timeout)
	}
	return nil
}

// Snapshot is the current content of the caches, Ingresses filtered to ours.
// The objects are shared with the caches and must not be modified.
func (w *Watcher) Snapshot() model.Snapshot {
	var s model.Snapshot
	ings := list[*networkingv1.Ingress](w.ingresses)
	classes := list[*networkingv1.IngressClass](w.classes)
	s.Ingresses = w.cfg.Classes.Filter(ings, classes)
	s.Services = list[*corev1.Service](w.services)
	s.EndpointSlices = list[*discoveryv1.EndpointSlice](w.slices)
	s.Secrets = list[*corev1.Secret](w.secrets)
	if w.configMaps != nil {
		for _, cm := range list[*corev1.ConfigMap](w.configMaps) {
			s.ConfigMap = cm.Data
		}
	}
	return s
}

// Ingress returns a cached Ingress of any class.
func (w *Watcher) Ingress(ns, name string) *networkingv1.Ingress {
	obj, ok, err := w.ingresses.GetStore().GetByKey(ns + "/" + name)
	if err != nil || !ok {
		return nil
	}
	return obj.(*networkingv1.Ingress)
}

// Service returns a cached Service, for --publish-service.
func (w *Watcher) Service(ns, name string) *corev1.Service {
	obj, ok, err := w.services.GetStore().GetByKey(ns + "/" + name)
	if err != nil || !ok {
		return nil
	}
	return obj.(*corev1.Service)
}

func list[T any](inf cache.SharedIndexInformer) []T {
	items := inf.GetStore().List()
	out := make([]T, 0, len(items))
	for _, it := range items {
		out = append(out, it.(T))
	}
	return out
}
