// Package watch keeps client-go caches of everything the model reads and
// calls OnChange on every real change; Snapshot reads the caches. No
// polling: reflectors list and watch, and resyncs are off.
package watch

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	kwatch "k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/external-haproxy/kit/controller/ingressclass"
	"github.com/external-haproxy/kit/controller/model"
)

// Config says what to watch.
type Config struct {
	Client             kubernetes.Interface
	Namespace          string // --watch-namespace; empty: all
	ConfigMapNamespace string // --configmap; empty name: none
	ConfigMapName      string
	// TCPServicesNamespace and TCPServicesName are --tcp-services-configmap;
	// empty name: none.
	TCPServicesNamespace, TCPServicesName string
	// ParametersNamespace is where the ConfigMaps of IngressClass
	// spec.parameters are read: the controller's own namespace, which its
	// Role lets it read; empty: none read.
	ParametersNamespace string
	Classes             ingressclass.Selector
	OnChange            func()
}

// Reconnect is how the reflectors retry after the apiserver failed them.
// client-go's default (0.8 s doubling up to 30 s) served changes made after a
// 12 s outage only 20–26 s after the apiserver was back; capped at 1.5 s
// (±30%), a change is served within about 2 s of it. Shared informers do
// not expose this option in client-go v0.37, so the caches are plain
// reflectors. A refused connection costs the apiserver next to nothing, and
// the jitter spreads the replicas.
var Reconnect = wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Jitter: 0.3, Steps: 10, Cap: 1500 * time.Millisecond}

// Watcher holds the caches.
type Watcher struct {
	cfg                                                                                              Config
	ingresses, classes, services, slices, secrets, opaque, configMaps, tcpServices, parameters, pods *source
	health                                                                                           health
}

// New sets up the caches; nothing is watched before Start.
func New(cfg Config) *Watcher {
	w := &Watcher{cfg: cfg}
	c, ns := cfg.Client, cfg.Namespace
	w.ingresses = newSource(w, "ingresses", &networkingv1.Ingress{}, c.NetworkingV1().Ingresses(ns), nil)
	w.services = newSource(w, "services", &corev1.Service{}, c.CoreV1().Services(ns), nil)
	w.slices = newSource(w, "endpointslices", &discoveryv1.EndpointSlice{}, c.DiscoveryV1().EndpointSlices(ns), nil)
	// Only TLS and Opaque Secrets (certificates; passwords and CA bundles
	// of auth keys): caching every Secret of the cluster, service account
	// tokens and image pull secrets included, would cost memory and widen
	// what we hold.
	w.secrets = newSource(w, "secrets", &corev1.Secret{}, c.CoreV1().Secrets(ns),
		fields.OneTermEqualSelector("type", string(corev1.SecretTypeTLS)))
	w.opaque = newSource(w, "opaque secrets", &corev1.Secret{}, c.CoreV1().Secrets(ns),
		fields.OneTermEqualSelector("type", string(corev1.SecretTypeOpaque)))
	// Pods only for their labels (blue-green-balance): the cache keeps
	// name, namespace and labels, and a status change is no change.
	w.pods = newSource(w, "pods", &corev1.Pod{}, c.CoreV1().Pods(ns), nil)
	w.pods.store.strip = podLabelsOnly
	w.classes = newSource(w, "ingressclasses", &networkingv1.IngressClass{}, c.NetworkingV1().IngressClasses(), nil)
	if cfg.ConfigMapName != "" {
		w.configMaps = newSource(w, "configmaps", &corev1.ConfigMap{}, c.CoreV1().ConfigMaps(cfg.ConfigMapNamespace),
			fields.OneTermEqualSelector("metadata.name", cfg.ConfigMapName))
	}
	if cfg.TCPServicesName != "" {
		w.tcpServices = newSource(w, "tcp services", &corev1.ConfigMap{}, c.CoreV1().ConfigMaps(cfg.TCPServicesNamespace),
			fields.OneTermEqualSelector("metadata.name", cfg.TCPServicesName))
	}
	if cfg.ParametersNamespace != "" {
		w.parameters = newSource(w, "class parameters", &corev1.ConfigMap{}, c.CoreV1().ConfigMaps(cfg.ParametersNamespace), nil)
		// The global and TCP services ConfigMaps' own sources report their
		// changes: one update per change, not two.
		own := map[string]bool{}
		if w.configMaps != nil && cfg.ConfigMapNamespace == cfg.ParametersNamespace {
			own[cfg.ConfigMapName] = true
		}
		if w.tcpServices != nil && cfg.TCPServicesNamespace == cfg.ParametersNamespace {
			own[cfg.TCPServicesName] = true
		}
		if len(own) > 0 {
			w.parameters.store.quiet = func(obj any) bool {
				m, err := meta.Accessor(obj)
				return err == nil && own[m.GetName()]
			}
		}
	}
	return w
}

func (w *Watcher) sources() []*source {
	out := []*source{w.ingresses, w.classes, w.services, w.slices, w.secrets, w.opaque, w.pods}
	for _, s := range []*source{w.configMaps, w.tcpServices, w.parameters} {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// Start runs the reflectors until ctx ends and waits for the first full list,
// so that the first update never sees a partial cluster.
func (w *Watcher) Start(ctx context.Context, timeout time.Duration) error {
	var synced []cache.InformerSynced
	for _, s := range w.sources() {
		backoff := Reconnect
		r := cache.NewReflectorWithOptions(s.lw, s.expected, s.store, cache.ReflectorOptions{
			Name: s.resource, TypeDescription: s.resource, Backoff: &backoff,
		})
		go r.RunWithContext(ctx)
		synced = append(synced, s.store.hasSynced)
	}
	syncCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), synced...) {
		return fmt.Errorf("caches not synced after %v: check --kubeconfig and RBAC", timeout)
	}
	return nil
}

// source is one resource's cache and the calls that fill it.
type source struct {
	resource string
	expected runtime.Object
	lw       cache.ListerWatcher
	store    *notifyingStore
}

// typedClient is the List and Watch of a client-go typed client.
type typedClient[L runtime.Object] interface {
	List(context.Context, metav1.ListOptions) (L, error)
	Watch(context.Context, metav1.ListOptions) (kwatch.Interface, error)
}

func newSource[L runtime.Object](w *Watcher, resource string, expected runtime.Object, c typedClient[L], selector fields.Selector) *source {
	tweak := func(o *metav1.ListOptions) {
		if selector != nil {
			o.FieldSelector = selector.String()
		}
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			tweak(&o)
			l, err := c.List(ctx, o)
			w.health.observe(resource, err)
			return l, err
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (kwatch.Interface, error) {
			tweak(&o)
			wi, err := c.Watch(ctx, o)
			w.health.observe(resource, err)
			return wi, err
		},
	}
	return &source{
		resource: resource,
		expected: expected,
		lw:       cache.ToListWatcherWithWatchListSemantics(lw, w.cfg.Client),
		store:    &notifyingStore{Store: cache.NewStore(cache.MetaNamespaceKeyFunc), onChange: w.cfg.OnChange},
	}
}

// notifyingStore is the cache a reflector fills; it calls onChange after
// every change.
type notifyingStore struct {
	cache.Store
	onChange func()
	// strip, if set, is what of an object the cache keeps; objects whose
	// stripped forms are equal are no change.
	strip func(any) any
	// quiet, if set, tells objects whose changes call no onChange: another
	// source reports them.
	quiet  func(any) bool
	mu     sync.Mutex
	synced bool // the first list is in
}

func (s *notifyingStore) Add(obj any) error { return s.changedBy(obj, s.Store.Add(s.kept(obj))) }

func (s *notifyingStore) Delete(obj any) error { return s.changedBy(obj, s.Store.Delete(obj)) }

func (s *notifyingStore) kept(obj any) any {
	obj = trimmed(obj)
	if s.strip == nil {
		return obj
	}
	return s.strip(obj)
}

// trimmed drops, in place, what no part of the controller reads and what
// can be as large as the rest of the object: its managed fields and
// kubectl's copy of the last applied object. The watch decoded the object
// for the cache alone, as a reflector's transform gets it.
func trimmed(obj any) any {
	m, err := meta.Accessor(obj)
	if err != nil {
		return obj // a tombstone
	}
	m.SetManagedFields(nil)
	if a := m.GetAnnotations(); a != nil {
		delete(a, corev1.LastAppliedConfigAnnotation)
	}
	return obj
}

func (s *notifyingStore) Update(obj any) error {
	obj = s.kept(obj)
	old, exists, _ := s.Store.Get(obj)
	if err := s.Store.Update(obj); err != nil || !exists {
		return s.changedBy(obj, err)
	}
	if s.quiet != nil && s.quiet(obj) {
		return nil
	}
	if s.strip != nil {
		if equality.Semantic.DeepEqual(old, obj) {
			return nil
		}
		s.onChange()
		return nil
	}
	// Equal resourceVersions are the same object again, not a change.
	if o, err := meta.Accessor(old); err == nil {
		if c, err := meta.Accessor(obj); err == nil && o.GetResourceVersion() == c.GetResourceVersion() {
			return nil
		}
	}
	if ingressStatusOnly(old, obj) {
		return nil
	}
	s.onChange()
	return nil
}

// podLabelsOnly is the part of a Pod the model reads.
func podLabelsOnly(obj any) any {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj
	}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels}}
}

// ingressStatusOnly tells an Ingress update that changed nothing the model
// reads: the status the controller writes itself. Each such write would
// otherwise rebuild the model once per Ingress after a burst.
func ingressStatusOnly(old, cur any) bool {
	o, ok1 := old.(*networkingv1.Ingress)
	c, ok2 := cur.(*networkingv1.Ingress)
	return ok1 && ok2 && o.Generation == c.Generation && o.Generation != 0 &&
		maps.Equal(o.Annotations, c.Annotations) && maps.Equal(o.Labels, c.Labels) && equality.Semantic.DeepEqual(o.Spec, c.Spec)
}

// Replace is a (re)list: the first marks the cache synced; after a reconnect
// the model is rebuilt once, and finds nothing to do if nothing changed.
func (s *notifyingStore) Replace(list []any, rv string) error {
	kept := make([]any, len(list))
	for i, o := range list {
		kept[i] = s.kept(o)
	}
	list = kept
	err := s.Store.Replace(list, rv)
	if err == nil {
		s.mu.Lock()
		s.synced = true
		s.mu.Unlock()
	}
	return s.changed(err)
}

func (s *notifyingStore) hasSynced() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.synced
}

// changedBy is changed for a change of obj, which calls no onChange if
// obj is quiet.
func (s *notifyingStore) changedBy(obj any, err error) error {
	if s.quiet != nil && s.quiet(obj) {
		return err
	}
	return s.changed(err)
}

func (s *notifyingStore) changed(err error) error {
	if err == nil {
		s.onChange()
	}
	return err
}

// health logs the watches failing and recovering: once when the first
// resource fails (reflectors retry quietly) and once when every failed one
// answers again.
type health struct {
	mu      sync.Mutex
	since   time.Time
	failing map[string]bool
	failed  []string // every resource that failed since, for the recovery line
}

func (h *health) observe(resource string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		if len(h.failing) == 0 {
			h.since, h.failing, h.failed = time.Now(), map[string]bool{}, nil
			klog.Warningf("watch of %s failed, retrying at most every %v: %v", resource, Reconnect.Cap, err)
		}
		if !h.failing[resource] {
			h.failing[resource] = true
			h.failed = append(h.failed, resource)
		}
		return
	}
	if !h.failing[resource] {
		return
	}
	delete(h.failing, resource)
	if len(h.failing) == 0 {
		slices.Sort(h.failed)
		klog.Infof("watches of %v recovered after %v", h.failed, time.Since(h.since).Round(time.Millisecond))
	}
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
	s.Secrets = append(list[*corev1.Secret](w.secrets), list[*corev1.Secret](w.opaque)...)
	if w.configMaps != nil {
		for _, cm := range list[*corev1.ConfigMap](w.configMaps) {
			s.ConfigMap = cm.Data
		}
	}
	s.ClassParameters = w.classParameters(classes)
	s.Pods = list[*corev1.Pod](w.pods)
	if w.tcpServices != nil {
		s.TCPServices = &model.TCPServicesSource{Source: model.Ref{Kind: "ConfigMap", Namespace: w.cfg.TCPServicesNamespace, Name: w.cfg.TCPServicesName},
			Missing: "not found"}
		for _, cm := range list[*corev1.ConfigMap](w.tcpServices) {
			s.TCPServices.Data, s.TCPServices.Missing = cm.Data, ""
		}
	}
	return s
}

// classParameters are the parameters of our IngressClasses, by class name,
// and under "" those of our default class.
func (w *Watcher) classParameters(classes []*networkingv1.IngressClass) map[string]model.ClassParameters {
	out := map[string]model.ClassParameters{}
	for _, c := range classes {
		p := c.Spec.Parameters
		if c.Spec.Controller != w.cfg.Classes.Controller || p == nil {
			continue
		}
		ns := w.cfg.ParametersNamespace
		if p.Namespace != nil {
			ns = *p.Namespace
		}
		cp := model.ClassParameters{Class: c.Name, Source: model.Ref{Kind: p.Kind, Namespace: ns, Name: p.Name}}
		switch {
		case p.APIGroup != nil && *p.APIGroup != "" || p.Kind != "ConfigMap":
			cp.Missing = "only a core ConfigMap can hold parameters"
		case w.parameters == nil || ns != w.cfg.ParametersNamespace:
			cp.Missing = "not read: the controller reads parameters from namespace " + strconv.Quote(w.cfg.ParametersNamespace) + " only"
		default:
			obj, ok, _ := w.parameters.store.GetByKey(ns + "/" + p.Name)
			if !ok {
				cp.Missing = "not found"
			} else {
				cp.Data = obj.(*corev1.ConfigMap).Data
			}
		}
		out[c.Name] = cp
		if c.Annotations[ingressclass.AnnotationDefault] == "true" {
			out[""] = cp
		}
	}
	return out
}

// Ingress returns a cached Ingress of any class.
func (w *Watcher) Ingress(ns, name string) *networkingv1.Ingress {
	obj, ok, err := w.ingresses.store.GetByKey(ns + "/" + name)
	if err != nil || !ok {
		return nil
	}
	return obj.(*networkingv1.Ingress)
}

// Service returns a cached Service, for --publish-service.
func (w *Watcher) Service(ns, name string) *corev1.Service {
	obj, ok, err := w.services.store.GetByKey(ns + "/" + name)
	if err != nil || !ok {
		return nil
	}
	return obj.(*corev1.Service)
}

func list[T any](s *source) []T {
	items := s.store.List()
	out := make([]T, 0, len(items))
	for _, it := range items {
		out = append(out, it.(T))
	}
	return out
}
