package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/external-haproxy/kit/controller/defaultcert"
	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/haproxy"
	"github.com/external-haproxy/kit/controller/haproxy/mastercli"
	"github.com/external-haproxy/kit/controller/haproxy/process"
	"github.com/external-haproxy/kit/controller/health"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/options"
	"github.com/external-haproxy/kit/controller/pipeline"
	"github.com/external-haproxy/kit/controller/status"
	"github.com/external-haproxy/kit/controller/updater"
	"github.com/external-haproxy/kit/controller/watch"
)

// masterCheckInterval is how often external mode asks the master for its PID,
// to notice a haproxy container that restarted on its own.
const masterCheckInterval = 2 * time.Second

func runController(ctx context.Context, fs *flag.FlagSet, args []string) error {
	o := options.Register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err
	}
	layout := files.DefaultLayout(o.LocalFilesystemPrefix)
	if o.Init {
		return haproxy.WriteInitConfig(layout)
	}
	embedded := o.MasterSocket == ""
	binary, err := haproxyBinary(o.HAProxyBinary, embedded)
	if err != nil {
		return err
	}
	if binary == "" {
		klog.Warning("no haproxy binary found: no haproxy -c; a reload haproxy 2.6 refuses is reported without its messages (2.7+ sends them with its answer)")
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	if err != nil {
		return fmt.Errorf("kubernetes client config: %w", err)
	}
	// client-go's default of 5 writes/s would take 17 minutes for the
	// statuses of 5,000 new Ingresses; watches are not rate limited.
	cfg.QPS, cfg.Burst = 50, 100
	// Protobuf, as the control plane's own controllers use: decoding the
	// watches' objects costs a fraction of JSON's. No gzip: a large list's
	// decompression cost more CPU than the pod network saves.
	cfg.ContentType, cfg.AcceptContentTypes = runtime.ContentTypeProtobuf, runtime.ContentTypeProtobuf+","+runtime.ContentTypeJSON
	cfg.DisableCompression = true
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	podNamespace := envOr("POD_NAMESPACE", "default")

	metrics := health.NewMetrics()
	probes := health.NewServer(metrics)
	probes.Profiling = o.Profiling
	go func() {
		if err := probes.ListenAndServe(ctx, o.HealthzAddr); err != nil {
			klog.Errorf("health server on %s: %v", o.HealthzAddr, err)
		}
	}()

	events := record.NewBroadcaster(record.WithContext(ctx))
	events.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	defer events.Shutdown()
	recorder := events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "haproxy-ingress"})

	mode := "external"
	if embedded {
		mode = "embedded"
	}
	driver := haproxy.New(haproxy.Options{
		Layout:            layout,
		MasterSocket:      o.MasterSocket,
		Binary:            binary,
		ConnectionTimeout: o.ConnectionTimeout,
		Mode:              mode,
		Validate:          haproxy.Validation(o.ValidateConfig),
	})
	syncer := &pipeline.Syncer{
		Driver:         driver,
		Layout:         layout,
		Metrics:        metrics,
		ReloadInterval: o.ReloadInterval,
		Report: func(p model.Problem) {
			if p.Object.Kind == "ConfigMap" && p.Object.Namespace == "" && o.ConfigMap != "" {
				p.Object.Namespace, p.Object.Name, _ = options.SplitName(o.ConfigMap) // the model calls it "global"
			}
			reportProblem(recorder, p)
		},
	}

	var loop *updater.Loop
	cmNS, cmName := "", ""
	if o.ConfigMap != "" {
		cmNS, cmName, _ = options.SplitName(o.ConfigMap)
	}
	tcpNS, tcpName, _ := options.SplitName(o.TCPServicesConfigMap) // checked by the options; none: empty
	w := watch.New(watch.Config{
		Client: client, Namespace: o.WatchNamespace,
		ConfigMapNamespace: cmNS, ConfigMapName: cmName,
		TCPServicesNamespace: tcpNS, TCPServicesName: tcpName,
		ParametersNamespace: podNamespace,
		Classes:             selector(o),
		OnChange:            func() { loop.Trigger() },
	})

	statusWriter := status.New(status.Config{
		Client: client, LeaseNamespace: podNamespace, ElectionID: o.ElectionID,
		Identity: envOr("POD_NAME", hostname()),
		Publish:  func() []networkingv1.IngressLoadBalancerIngress { return publishAddresses(o, w) },
	})
	var served sync.Mutex // guards lastServed and toRelease
	var lastServed, toRelease []*networkingv1.Ingress
	// Status is written off the update loop, by a loop of its own that
	// folds the updates made meanwhile into one round: writing thousands of
	// statuses must not hold back the next configuration.
	statusLoop := updater.New(updater.Config{RetryAfter: o.ReloadRetry}, func(ctx context.Context) (bool, error) {
		served.Lock()
		ings, left := lastServed, toRelease
		toRelease = nil
		served.Unlock()
		statusWriter.Publish(ctx, current(ings, w))
		statusWriter.Release(ctx, left)
		return true, nil
	})

	generatedCert := &defaultcert.Keeper{Path: defaultCertPath(layout)}
	// A graceful stop lets the update that started finish, for at most
	// updateGrace: cut short between the master's reload and its
	// confirmation, haproxy would run the new files while the last good
	// ones are restored on disk, for the next controller to reload again.
	updates, cancelUpdates := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelUpdates()
	context.AfterFunc(ctx, func() { time.AfterFunc(updateGrace, cancelUpdates) })
	// Updates run one at a time: they can share the Ingresses' parses.
	parses := model.NewCache()
	loop = updater.New(updater.Config{
		WaitBeforeUpdate: o.WaitBeforeUpdate,
		MinInterval:      o.MinInterval(),
		RetryAfter:       o.ReloadRetry,
	}, func(ctx context.Context) (bool, error) {
		snap := w.Snapshot()
		mo, err := modelOptions(o, generatedCert, &snap)
		if err != nil {
			return false, err
		}
		mo.Cache = parses
		syncer.Options = mo
		applied := syncer.Applied()
		if err := syncer.Update(updates, &snap); err != nil {
			return syncer.Applied() != applied, err
		}
		probes.SetReady()
		served.Lock()
		toRelease = append(toRelease, leftClass(lastServed, snap.Ingresses, w)...)
		lastServed = snap.Ingresses
		served.Unlock()
		statusLoop.Trigger()
		return syncer.Applied() != applied, nil
	})

	var wg sync.WaitGroup
	defer wg.Wait()
	if embedded {
		sup := &process.Supervisor{Binary: binary, Layout: layout, OnStart: func(context.Context, int) { loop.Trigger() }}
		if err := haproxy.WriteInitConfig(layout); err != nil {
			return err
		}
		wg.Go(func() {
			if err := sup.Run(ctx); err != nil {
				klog.Errorf("embedded haproxy: %v", err)
			}
		})
	} else {
		wg.Go(func() { watchMaster(ctx, driver, loop) })
	}

	if err := w.Start(ctx, 2*time.Minute); err != nil {
		return err
	}
	if o.UpdateStatus {
		wg.Go(func() { statusWriter.Elect(ctx, statusLoop.Trigger) })
		wg.Go(func() { statusLoop.Run(ctx) })
	}
	loop.Trigger()
	klog.Infof("haproxy-ingress controller started (%s haproxy, controller class %s)", mode, o.FullControllerName())
	loop.Run(ctx)

	if o.UpdateStatus && o.UpdateStatusOnShutdown {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		served.Lock()
		statusWriter.Clear(sctx, lastServed)
		served.Unlock()
		cancel()
	}
	klog.Info("haproxy-ingress controller stopped")
	return nil
}

// updateGrace is how long an update that started may go on after a graceful
// stop (SIGTERM), within the pod's default 30 s grace period.
const updateGrace = 10 * time.Second

// watchMaster notices an external haproxy that restarted (another master,
// see mastercli.Restarted): it loaded the files on disk, which already hold
// every change, and an update confirms it serves them.
func watchMaster(ctx context.Context, d *haproxy.Driver, loop *updater.Loop) {
	var last *mastercli.Proc
	t := time.NewTicker(masterCheckInterval)
	defer t.Stop()
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
		proc, err := d.Master().ShowProc(ctx)
		if err != nil {
			continue // the update path waits for and reports an absent master
		}
		if last != nil && mastercli.Restarted(*last, proc) {
			klog.Infof("haproxy master changed from pid %d (up %s, %d reloads) to %d (up %s, %d reloads), re-feeding it",
				last.Master.PID, last.Master.Uptime, last.Master.Reloads, proc.Master.PID, proc.Master.Uptime, proc.Master.Reloads)
			d.Invalidate()
			loop.Trigger()
		}
		last = &proc
	}
}

// leftClass returns the current objects of Ingresses served before and not
// now that still exist: they moved to another class.
func leftClass(before, now []*networkingv1.Ingress, w *watch.Watcher) []*networkingv1.Ingress {
	still := make(map[string]bool, len(now))
	for _, ing := range now {
		still[ing.Namespace+"/"+ing.Name] = true
	}
	var out []*networkingv1.Ingress
	for _, ing := range before {
		if !still[ing.Namespace+"/"+ing.Name] {
			if cur := w.Ingress(ing.Namespace, ing.Name); cur != nil {
				out = append(out, cur)
			}
		}
	}
	return out
}

// current replaces each Ingress by the watch cache's version, which holds
// the status written since the snapshot: status-only changes start no
// update (see watch), so the snapshot's copies lag behind.
func current(ings []*networkingv1.Ingress, w *watch.Watcher) []*networkingv1.Ingress {
	out := make([]*networkingv1.Ingress, 0, len(ings))
	for _, ing := range ings {
		if cur := w.Ingress(ing.Namespace, ing.Name); cur != nil {
			out = append(out, cur)
		}
	}
	return out
}

// haproxyBinary finds haproxy for -c checks: required in embedded mode,
// optional in external mode (the sidecar may run another version).
func haproxyBinary(flagValue string, embedded bool) (string, error) {
	if flagValue != "" {
		return exec.LookPath(flagValue)
	}
	p, err := exec.LookPath("haproxy")
	if err != nil && embedded {
		return "", errors.New("embedded mode needs haproxy on $PATH or --haproxy-binary")
	}
	return p, nil
}

func publishAddresses(o *options.Options, w *watch.Watcher) []networkingv1.IngressLoadBalancerIngress {
	if o.PublishService != "" {
		ns, name, _ := options.SplitName(o.PublishService)
		if svc := w.Service(ns, name); svc != nil {
			return status.ServiceAddresses(svc)
		}
		klog.Warningf("--publish-service=%q not found", o.PublishService)
		return nil
	}
	if ip := net.ParseIP(os.Getenv("POD_IP")); ip != nil {
		return []networkingv1.IngressLoadBalancerIngress{{IP: ip.String()}}
	}
	return nil
}

// reportProblem logs a problem and, for Kubernetes objects, records an Event
// on it so that `kubectl describe` shows why it is not served as written.
func reportProblem(rec record.EventRecorder, p model.Problem) {
	logProblem(p)
	apiVersion := map[string]string{"Ingress": "networking.k8s.io/v1", "Service": "v1", "Secret": "v1", "ConfigMap": "v1", "EndpointSlice": "discovery.k8s.io/v1"}[p.Object.Kind]
	if apiVersion == "" || p.Object.Namespace == "" {
		return
	}
	ref := &corev1.ObjectReference{Kind: p.Object.Kind, APIVersion: apiVersion, Namespace: p.Object.Namespace, Name: p.Object.Name}
	reason := "InvalidConfiguration"
	if p.Severity == model.Warning {
		reason = "ConfigurationWarning"
	}
	rec.Event(ref, corev1.EventTypeWarning, reason, p.Detail())
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
