package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"k8s.io/klog/v2"

	"github.com/external-haproxy/kit/controller/defaultcert"
	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/haproxy/filestore"
	"github.com/external-haproxy/kit/controller/ingressclass"
	"github.com/external-haproxy/kit/controller/manifests"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/options"
	"github.com/external-haproxy/kit/controller/pipeline"
	"github.com/external-haproxy/kit/controller/render"
)

type stringList []string

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// renderCommand writes every file haproxy would load for some manifests, at
// the controller's paths, through the same pipeline.Build the controller uses.
func renderCommand(args []string) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	o := options.Register(fs)
	var paths stringList
	fs.Var(&paths, "f", "manifest file or directory (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err
	}
	if len(paths) == 0 {
		return fmt.Errorf("render: at least one -f FILE_OR_DIR is needed")
	}
	snap, err := manifestSnapshot(o, paths)
	if err != nil {
		return err
	}
	layout := files.DefaultLayout(o.LocalFilesystemPrefix)
	mopts, err := modelOptions(o, &defaultcert.Keeper{Path: defaultCertPath(layout)}, snap)
	if err != nil {
		return err
	}
	_, set, problems := pipeline.Build(snap, mopts, layout)
	for _, p := range problems {
		logProblem(p)
	}
	store := filestore.New(layout)
	plan, err := store.Plan(set)
	if err != nil {
		return err
	}
	if err := store.Apply(set, plan); err != nil {
		return err
	}
	for _, f := range set {
		fmt.Println(f.Path)
	}
	return nil
}

// manifestSnapshot is what the controller would read from the objects of
// some manifests: the Ingresses of our class and the --configmap.
func manifestSnapshot(o *options.Options, paths []string) (*model.Snapshot, error) {
	objs, err := manifests.LoadPaths(paths...)
	if err != nil {
		return nil, err
	}
	ours := selector(o).Filter(objs.Ingresses, objs.IngressClasses)
	if ignored := len(objs.Ingresses) - len(ours); ignored > 0 {
		klog.Warningf("%d of %d Ingress(es) ignored: not of IngressClass controller %s nor annotated kubernetes.io/ingress.class=%s (see --watch-ingress-without-class)",
			ignored, len(objs.Ingresses), o.FullControllerName(), o.IngressClass)
	}
	snap := &model.Snapshot{
		Ingresses:      ours,
		Services:       objs.Services,
		EndpointSlices: objs.EndpointSlices,
		Secrets:        objs.Secrets,
	}
	if o.ConfigMap != "" {
		var found bool
		if snap.ConfigMap, found = configMapData(objs, o.ConfigMap); !found {
			klog.Warningf("configmap %s not found in the manifests, using defaults", o.ConfigMap)
		}
	}
	if o.TCPServicesConfigMap != "" {
		ns, name, _ := options.SplitName(o.TCPServicesConfigMap)
		snap.TCPServices = &model.TCPServicesSource{Source: model.Ref{Kind: "ConfigMap", Namespace: ns, Name: name}}
		if data, found := configMapData(objs, o.TCPServicesConfigMap); found {
			snap.TCPServices.Data = data
		} else {
			snap.TCPServices.Missing = "not found in the manifests"
		}
	}
	return snap, nil
}

// configMapData is the data of the ConfigMap nsName (namespace/name) among
// objs.
func configMapData(objs *manifests.Objects, nsName string) (map[string]string, bool) {
	ns, name, _ := options.SplitName(nsName)
	for _, cm := range objs.ConfigMaps {
		if cm.Namespace == ns && cm.Name == name {
			return cm.Data, true
		}
	}
	return nil, false
}

func selector(o *options.Options) ingressclass.Selector {
	return ingressclass.Selector{Controller: o.FullControllerName(), AnnotationValue: o.IngressClass, WatchWithoutClass: o.WatchIngressWithoutClass}
}

// defaultCertPath is where the render writes the default certificate, and so
// where a generated one is found again after a restart.
func defaultCertPath(l files.Layout) string { return filepath.Join(l.Certs(), render.DefaultCertFile) }

// modelOptions resolves the default certificate: --default-ssl-certificate's
// Secret when it is in the snapshot, else the generated one kept on disk.
func modelOptions(o *options.Options, generated *defaultcert.Keeper, snap *model.Snapshot) (model.Options, error) {
	mo := baseModelOptions(o)
	if o.DefaultSSLCertificate != "" {
		ns, name, _ := options.SplitName(o.DefaultSSLCertificate)
		for _, s := range snap.Secrets {
			if s.Namespace == ns && s.Name == name {
				mo.DefaultCertificate = append(append([]byte{}, s.Data["tls.crt"]...), s.Data["tls.key"]...)
				return mo, nil
			}
		}
		klog.Warningf("--default-ssl-certificate=%s: secret not found, serving a generated certificate", o.DefaultSSLCertificate)
	}
	pem, err := generated.Get(time.Now())
	mo.DefaultCertificate = pem
	return mo, err
}

// baseModelOptions are the model options the flags set, without the
// default certificate.
func baseModelOptions(o *options.Options) model.Options {
	return model.Options{DefaultBackendService: o.DefaultBackendService, Resolves: resolves, AnnotationPrefixes: o.AnnotationPrefixes(),
		AllowConfigSnippets: o.AllowConfigSnippets, SpareBackends: o.SpareBackends}
}

// resolves looks a host name up as haproxy will when it loads the config,
// with a deadline so that a slow DNS server cannot stall an update.
func resolves(host string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	return err == nil && len(addrs) > 0
}

func logProblem(p model.Problem) {
	if p.Severity == model.Error {
		klog.Error(p.String())
	} else {
		klog.Warning(p.String())
	}
}
