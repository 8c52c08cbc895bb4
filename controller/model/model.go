// Package model turns a snapshot of Kubernetes objects into the haproxy
// configuration it implies. It is pure: no I/O, no clock, no randomness, so
// equal snapshots always give equal models and the render is byte-stable.
package model

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Snapshot is everything Build reads. Ingresses are already filtered to our
// IngressClass by the caller.
type Snapshot struct {
	Ingresses      []*networkingv1.Ingress
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	Secrets        []*corev1.Secret
	ConfigMap      map[string]string // global ConfigMap data (--configmap)
	// ClassParameters are the ConfigMaps of our IngressClasses'
	// spec.parameters, by class name; "" is for Ingresses without
	// spec.ingressClassName (the default class's).
	ClassParameters map[string]ClassParameters
	// Pods give the endpoints their labels (blue-green-balance); the watch
	// keeps only their name, namespace and labels.
	Pods []*corev1.Pod
	// TCPServices is --tcp-services-configmap; nil: none given.
	TCPServices *TCPServicesSource
}

// ClassParameters are the keys an IngressClass gives its Ingresses: every
// scope but Global, over the global ConfigMap and under annotations.
type ClassParameters struct {
	Class  string // the IngressClass
	Source Ref    // its spec.parameters
	Data   map[string]string
	// Missing says why Data could not be read; empty: it was.
	Missing string
}

// Options are the command-line choices of the controller.
type Options struct {
	// DefaultBackendService is "namespace/name" of --default-backend-service;
	// its first port is used. Empty means a 404 default backend.
	DefaultBackendService string
	// DefaultCertificate is a PEM bundle (certificate chain + private key)
	// served when no Ingress certificate matches the SNI. The caller
	// generates or loads it so that Build stays free of randomness.
	DefaultCertificate []byte
	// Resolves tells whether a host name resolves, as haproxy resolves it
	// when it loads the config (syslog-endpoint). The caller does the
	// lookup so that Build stays free of I/O; nil: only IP addresses.
	Resolves func(host string) bool
	// AnnotationPrefixes are those of --annotations-prefix, without the
	// "/", the first winning when two set one key; nil: upstream's default.
	AnnotationPrefixes []string
	// AllowConfigSnippets is --allow-config-snippets: read the config-*
	// keys, which paste haproxy configuration as written.
	AllowConfigSnippets bool
	// SpareBackends is --spare-backends: the least number of spare
	// backends a reload renders (see spares.go).
	SpareBackends int
	// Cache, if set, carries the Ingresses' parses from one Build to the
	// next (see Cache).
	Cache *Cache
}

// Model is the haproxy configuration implied by a snapshot. All slices are
// sorted so that equal snapshots give deep-equal models.
type Model struct {
	Global    Global
	Frontends []Frontend
	Routes    []Route   // sorted by Host, Path, Match
	Backends  []Backend // sorted by Name; DefaultBackendName is one of them
	// Spares is what spare backends a reload adds to Backends (see
	// spares.go); Build adds none.
	Spares SparePool
	Certs  []Cert // sorted by Name; DefaultCert is separate

	TLSHosts  []TLSHost  // sorted by Host: SNIs with crt-list options of their own
	ClientCAs []ClientCA // sorted by Name: the CAs of the TLSHosts
	// AliasRegexes are the server-alias-regex of the hosts, by host name:
	// the first that finds a request's host gives the host whose routes
	// answer.
	AliasRegexes []AliasRegex
	Passthrough  []PassthroughHost // sorted by Host
	// DefaultCert is the fallback certificate; nil when none was supplied
	// or it was invalid, in which case no https frontend is rendered.
	DefaultCert *Cert
	// Userlists are the basic auth users of the routes, sorted by Name.
	Userlists []Userlist
	// HostRedirects send the requests of other hosts to route hosts, in
	// the order they are tried; see policy_redirect.go.
	HostRedirects []HostRedirect
	// TCPServices are the ports of --tcp-services-configmap, by port; their
	// backends are in Backends.
	TCPServices []TCPService
}

// DefaultBackendName is the backend used when no route matches: 404, or the
// servers of the default backend service.
const DefaultBackendName = "_default_backend"

// FrontendKind says what a frontend serves.
type FrontendKind string

const (
	FrontendHTTP    FrontendKind = "http"
	FrontendHTTPS   FrontendKind = "https"
	FrontendHealthz FrontendKind = "healthz"
	FrontendStats   FrontendKind = "stats"
	// FrontendFronting takes plain http from a load balancer in front that
	// ended TLS (fronting-proxy-port): each request goes on to the https
	// frontend, or to the http one when its X-Forwarded-Proto is not https
	// (use-forwarded-proto), over local sockets.
	FrontendFronting FrontendKind = "fronting-proxy"
)

// Frontend is one listening address.
type Frontend struct {
	Kind FrontendKind
	IP   string // empty: all addresses
	Port int
	// Also are more addresses it listens on (bind-http, bind-https).
	Also []Addr `json:",omitempty"`
}

// Addr is a listening address; IP empty: all of the family ("::" for IPv6).
type Addr struct {
	IP   string
	Port int
}

// Match is how a route's path is compared to the request path.
type Match string

const (
	MatchExact  Match = "exact"  // whole path equal
	MatchPrefix Match = "prefix" // Kubernetes Prefix: whole path elements
	MatchBegin  Match = "begin"  // character prefix (upstream "begin")
	MatchRegex  Match = "regex"  // regular expression on the path
)

// Route sends requests for Host and Path to Backend.
type Route struct {
	// Host is a lower-case DNS name, "*.suffix" for a wildcard, or empty
	// for rules that apply to any host.
	Host  string
	Path  string // for MatchPrefix without trailing slash (except "/")
	Match Match
	// Backend is the backend name; RedirectHTTPS makes the http frontend
	// redirect instead.
	Backend       string
	RedirectHTTPS bool
	// Policy is what the Path and Host keys do to the route's requests.
	Policy PathPolicy
	Source Ref // the Ingress the route comes from
}

// Backend is a haproxy backend with a fixed number of server slots.
type Backend struct {
	Name    string // <ns>_<svc>_<port>, DefaultBackendName, or a spare's
	Service Ref    // empty for a 404 default backend and a free spare
	// For is, on a spare backend, the name of the backend it serves; empty
	// on other backends and free spares.
	For    string
	Policy BackendPolicy
	// Servers are the slots: enabled ones carry an endpoint, the rest are
	// disabled placeholders that dynamic updates can fill without a reload.
	// None when DNS is set.
	Servers []Server
	// DNS: haproxy resolves the servers itself (use-resolver).
	DNS *Discovery
}

// Server is one slot of a backend.
type Server struct {
	Name    string // srv001...
	Addr    string // IP address; placeholder 127.0.0.1 when disabled
	Port    int
	Enabled bool
	// Draining: the slot left its endpoint while haproxy still set it to
	// drain, waiting for its connections to end. The files already say
	// disabled (the end state), but the slot is not free for another
	// endpoint until the drain finished with maint.
	Draining bool
	// Weight is the server's own weight when Weighted (blue-green-balance:
	// 0 to 256, 0 takes no new requests); else the backend's
	// initial-weight applies.
	Weight   int
	Weighted bool
	// Group is the value of the blue-green selector's label on the pod of
	// the slot's endpoint (blue-green-header, -cookie); "" for none. Like
	// the endpoint it changes at run time (a map entry).
	Group string
}

// EffectiveWeight is the weight haproxy gives s in a backend of policy p.
func (s Server) EffectiveWeight(p *BackendPolicy) int {
	if s.Weighted {
		return s.Weight
	}
	return p.Server.BaseWeight()
}

// Cert is a certificate bundle served for SNI names.
type Cert struct {
	Name  string   // file base name: <ns>_<secret>, or "default"
	PEM   []byte   // chain followed by the private key
	Hosts []string // SNI filters, sorted; empty: the certificate's own names
	// Source is the Secret the bundle comes from; empty for the default
	// certificate, which comes from the controller's options.
	Source Ref
}

// Ref names a Kubernetes object.
type Ref struct {
	Kind      string
	Namespace string
	Name      string
}

// ConfigMapRef is how problems name the global ConfigMap (--configmap);
// the controller puts in its real namespace and name.
var ConfigMapRef = configMapRef

func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// Severity of a Problem.
type Severity string

const (
	Warning Severity = "warning" // something was ignored or defaulted
	Error   Severity = "error"   // an object or part of it was skipped
)

// Problem is something wrong in the input, for logs and Kubernetes Events.
type Problem struct {
	Object   Ref
	Field    string
	Message  string
	Severity Severity
}

func (p Problem) String() string {
	return string(p.Severity) + ": " + logText(p.Object.String()) + " " + p.Detail()
}

// Detail is "field: message", or the message alone, with anything that
// could break a log line or an Event quoted.
func (p Problem) Detail() string {
	if p.Field == "" {
		return logText(p.Message)
	}
	return logText(p.Field) + ": " + logText(p.Message)
}
