// Package options holds the controller's command-line flags. Names, meanings
// and — where speed is not at stake — defaults follow upstream haproxy-ingress,
// so that existing manifests keep working.
package options

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/internal/podlayout"
)

// Options is the parsed command line of the controller.
type Options struct {
	ConfigMap             string // ns/name of the global ConfigMap
	TCPServicesConfigMap  string // ns/name of --tcp-services-configmap
	MasterSocket          string // external mode when set
	HAProxyBinary         string // for `haproxy -c` and embedded mode
	LocalFilesystemPrefix string
	Init                  bool // write the minimal config for the init container and exit

	ConnectionTimeout time.Duration
	ReloadRetry       time.Duration
	ValidateConfig    string
	SpareBackends     int
	ReloadInterval    time.Duration
	RateLimitUpdate   float64
	WaitBeforeUpdate  time.Duration

	DefaultBackendService string
	DefaultSSLCertificate string

	Kubeconfig               string
	WatchNamespace           string
	ControllerClass          string
	IngressClass             string
	WatchIngressWithoutClass bool
	PublishService           string
	UpdateStatus             bool
	UpdateStatusOnShutdown   bool
	ElectionID               string
	HealthzAddr              string
	Profiling                bool
	AnnotationsPrefix        string // comma-separated, without "/"
	AllowConfigSnippets      bool
}

// ControllerName is the IngressClass spec.controller value we own.
const ControllerName = "haproxy-ingress.github.io/controller"

// Register adds the flags to fs and returns the options they fill.
func Register(fs *flag.FlagSet) *Options {
	o := &Options{}
	fs.StringVar(&o.ConfigMap, "configmap", "", "namespace/name of the global ConfigMap")
	fs.StringVar(&o.TCPServicesConfigMap, "tcp-services-configmap", "", "namespace/name of a ConfigMap of TCP services: port → <namespace>/<service>:<port>[:<in-proxy>[:<out-proxy>[:<crt secret>[:<check interval>[:<ca secret>]]]]]")
	fs.StringVar(&o.MasterSocket, podlayout.MasterSocketFlag, "", "master CLI socket of an external haproxy (haproxy -W -S); empty: the controller runs haproxy itself")
	fs.StringVar(&o.HAProxyBinary, "haproxy-binary", "", "haproxy binary for config checks and embedded mode (default: haproxy on $PATH; in external mode checks are skipped when none is found)")
	fs.StringVar(&o.LocalFilesystemPrefix, "local-filesystem-prefix", "", "put /etc/haproxy, /var/lib/haproxy and /var/run/haproxy under this directory (no control characters, \",\" or \"$\")")
	fs.BoolVar(&o.Init, podlayout.InitFlag, false, "write a minimal valid haproxy config (init container) and exit")
	fs.DurationVar(&o.ConnectionTimeout, "connection-timeout", 30*time.Second, "read/write deadline on haproxy's sockets; 2.7+ reloads answer only when done")
	fs.StringVar(&o.ValidateConfig, "validate-config", "auto", "when haproxy -c checks a config: auto (only after haproxy refused a reload, for its messages), always (before every reload) or never")
	fs.IntVar(&o.SpareBackends, "spare-backends", 16, "backends each reload keeps free (more after a burst of new Services), so that a new Service nothing annotates is served without a reload; 0: none (0 to 10000)")
	fs.DurationVar(&o.ReloadRetry, "reload-retry", 30*time.Second, "wait before retrying a failed update")
	fs.DurationVar(&o.ReloadInterval, "reload-interval", 0, "minimum time between two haproxy reloads")
	fs.Float64Var(&o.RateLimitUpdate, "rate-limit-update", 10, "maximum updates per second (0.05 to 10); a lone change is applied at once, later ones are folded into the next allowed update")
	fs.DurationVar(&o.WaitBeforeUpdate, "wait-before-update", 20*time.Millisecond, "gather the rest of a burst before an update that follows another one; a lone change is not delayed")
	fs.StringVar(&o.DefaultBackendService, "default-backend-service", "", "namespace/name of the Service answering requests no rule matches (default: 404)")
	fs.StringVar(&o.DefaultSSLCertificate, "default-ssl-certificate", "", "namespace/name of the TLS Secret for hosts without one (default: a generated self-signed certificate)")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster config)")
	fs.StringVar(&o.WatchNamespace, "watch-namespace", "", "watch only this namespace (default: all)")
	fs.StringVar(&o.ControllerClass, "controller-class", "", "suffix of the IngressClass controller name: "+ControllerName+"/<value>")
	fs.StringVar(&o.IngressClass, "ingress-class", "haproxy", "value of the kubernetes.io/ingress.class annotation this controller serves")
	fs.BoolVar(&o.WatchIngressWithoutClass, "watch-ingress-without-class", false, "also serve Ingresses without a class when no IngressClass is the default")
	fs.StringVar(&o.PublishService, "publish-service", "", "namespace/name of the Service whose addresses go to Ingress status")
	fs.BoolVar(&o.UpdateStatus, "update-status", true, "write Ingress status.loadBalancer")
	fs.BoolVar(&o.UpdateStatusOnShutdown, "update-status-on-shutdown", true, "clear Ingress status on shutdown")
	fs.StringVar(&o.ElectionID, "election-id", "haproxy-ingress-leader", "name of the Lease used for leader election")
	fs.StringVar(&o.HealthzAddr, podlayout.HealthzAddrFlag, fmt.Sprintf(":%d", podlayout.ControllerPort), "address of /healthz, /readyz and /metrics")
	fs.BoolVar(&o.Profiling, "profiling", false, "serve Go's /debug/pprof/ on the healthz address (off by default: the pod's network is the node's)")
	fs.StringVar(&o.AnnotationsPrefix, "annotations-prefix", strings.Join(model.DefaultAnnotationPrefixes, ","),
		"comma-separated prefixes, without \"/\", of the Ingress annotations read; the first one wins when two set the same key")
	fs.BoolVar(&o.AllowConfigSnippets, "allow-config-snippets", false,
		"read the config-global, config-defaults, config-frontend and config-backend keys, which paste haproxy configuration as written: "+
			"whoever may annotate an Ingress or Service can then make haproxy do anything it can")
	return o
}

// AnnotationPrefixes is --annotations-prefix as a list.
func (o *Options) AnnotationPrefixes() []string {
	return strings.Split(o.AnnotationsPrefix, ",")
}

// Validate reports the first invalid flag, naming it.
func (o *Options) Validate() error {
	if o.RateLimitUpdate < 0.05 || o.RateLimitUpdate > 10 {
		return fmt.Errorf("--rate-limit-update=%v: must be between 0.05 and 10", o.RateLimitUpdate)
	}
	if o.SpareBackends < 0 || o.SpareBackends > 10000 {
		return fmt.Errorf("--spare-backends=%d: must be between 0 and 10000", o.SpareBackends)
	}
	if !slices.Contains([]string{"auto", "always", "never"}, o.ValidateConfig) {
		return fmt.Errorf("--validate-config=%q: must be auto, always or never", o.ValidateConfig)
	}
	for flagName, v := range map[string]string{"configmap": o.ConfigMap, "tcp-services-configmap": o.TCPServicesConfigMap, "default-backend-service": o.DefaultBackendService,
		"default-ssl-certificate": o.DefaultSSLCertificate, "publish-service": o.PublishService} {
		if v != "" {
			if _, _, err := SplitName(v); err != nil {
				return fmt.Errorf("--%s=%q: %w", flagName, v, err)
			}
		}
	}
	seen := map[string]bool{}
	for _, p := range o.AnnotationPrefixes() {
		// An annotation key's prefix is a DNS subdomain (Kubernetes' rule).
		if errs := validation.IsDNS1123Subdomain(p); len(errs) > 0 || seen[p] {
			return fmt.Errorf("--annotations-prefix=%q: %q is not a DNS subdomain, or repeated", o.AnnotationsPrefix, p)
		}
		seen[p] = true
	}
	if o.MasterSocket != "" && !strings.HasPrefix(o.MasterSocket, "/") {
		return fmt.Errorf("--master-socket=%q: must be an absolute path", o.MasterSocket)
	}
	if i := strings.IndexFunc(o.LocalFilesystemPrefix, unquotable); i >= 0 {
		return fmt.Errorf("--local-filesystem-prefix=%q: character %q at offset %d cannot be part of a path in haproxy's configuration",
			o.LocalFilesystemPrefix, o.LocalFilesystemPrefix[i], i)
	}
	return nil
}

// unquotable tells the characters no quoting carries into haproxy's paths:
// control characters end or break a config line, a comma separates the
// addresses of a socket (stats socket, -S) and "$" in an address is
// expanded as an environment variable even inside quotes.
func unquotable(r rune) bool {
	return r < ' ' || r == 0x7f || r == ',' || r == '$'
}

// MinInterval is the spacing of updates that --rate-limit-update asks for.
func (o *Options) MinInterval() time.Duration {
	return time.Duration(float64(time.Second) / o.RateLimitUpdate)
}

// FullControllerName is the IngressClass controller value we answer to.
func (o *Options) FullControllerName() string {
	if o.ControllerClass == "" {
		return ControllerName
	}
	return ControllerName + "/" + o.ControllerClass
}

// SplitName splits "namespace/name".
func SplitName(s string) (ns, name string, err error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("want namespace/name")
	}
	return ns, name, nil
}
