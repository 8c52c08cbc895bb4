package model_test

import (
	"bytes"
	"crypto/sha256"
	"sort"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/render"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// hostileTokens are what a hostile tenant puts in a value to end a config
// line, start a comment, close a quote, expand a variable or a sample, or
// stall the controller; each is tried alone and after a valid value.
var hostileTokens = []string{
	"\n", "\r", "\r\n    bind :9999", "\nbackend evil\n    server x 127.0.0.2:80", "\n    http-request return status 200",
	"#", " # comment", `"`, `'`, `\`, `\"`, "'\\''", "%[req.hdr(host)]", "${HOME}", "\x00", "\x00\n", "\v", "\f", "\t",
	" ", ";", "|", "$", "{", "}", "(", ")", ",", "ä", "日本", "\u202e", "\xff\xfe", "/../../etc/passwd",
	strings.Repeat("a", 1<<20),
}

// hostileField is one place of the input that reaches haproxy's files.
type hostileField struct {
	name   string
	benign string // a valid value of the field
	// add puts the object carrying v into s and returns the object and
	// field (prefix) a problem must name when v is refused.
	add func(s *model.Snapshot, o *model.Options, v string) (model.Ref, string)
	// without makes the base what it is when the object is refused: nil
	// for an object simply absent then.
	without func(s *model.Snapshot, o *model.Options)
}

const hostileNS = "ns"

func hostileIngress(s *model.Snapshot, mutate func(*networkingv1.Ingress)) model.Ref {
	ing := ingress("hostile", "h.test", "/h", "web")
	ing.CreationTimestamp = metav1.Unix(100, 0)
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"h.test"}, SecretName: "h-tls"}}
	mutate(ing)
	s.Ingresses = append(s.Ingresses, ing)
	return model.Ref{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
}

func hostileFields(t *testing.T) []hostileField {
	cert, key := tlsPair(t)
	ingField := func(name, benign, field string, set func(ing *networkingv1.Ingress, v string)) hostileField {
		return hostileField{name, benign, func(s *model.Snapshot, _ *model.Options, v string) (model.Ref, string) {
			return hostileIngress(s, func(ing *networkingv1.Ingress) { set(ing, v) }), field
		}, nil}
	}
	path0 := func(ing *networkingv1.Ingress) *networkingv1.HTTPIngressPath { return &ing.Spec.Rules[0].HTTP.Paths[0] }
	pathType := func(pt networkingv1.PathType, ann string) func(*networkingv1.Ingress, string) {
		return func(ing *networkingv1.Ingress, v string) {
			path0(ing).PathType = &pt
			path0(ing).Path = v
			if ann != "" {
				ing.Annotations = map[string]string{"haproxy-ingress.github.io/path-type": ann}
			}
		}
	}
	secretField := func(name, benign, dataKey string) hostileField {
		return hostileField{name, benign, func(s *model.Snapshot, _ *model.Options, v string) (model.Ref, string) {
			sec := tlsSecret("h-tls", cert, key)
			sec.Data[dataKey] = []byte(v)
			s.Secrets = append(s.Secrets, sec)
			return hostileIngress(s, func(*networkingv1.Ingress) {}), "spec.tls[0]"
		}, func(s *model.Snapshot, _ *model.Options) { hostileIngress(s, func(*networkingv1.Ingress) {}) }}
	}
	fields := []hostileField{
		ingField("host", "h.test", "spec.rules[0].host", func(ing *networkingv1.Ingress, v string) { ing.Spec.Rules[0].Host = v }),
		ingField("prefix path", "/h", "spec.rules[0].http.paths[0].path", pathType(networkingv1.PathTypePrefix, "")),
		ingField("exact path", "/h", "spec.rules[0].http.paths[0].path", pathType(networkingv1.PathTypeExact, "")),
		ingField("begin path", "/h", "spec.rules[0].http.paths[0].path", pathType(networkingv1.PathTypeImplementationSpecific, "")),
		ingField("regex path", "^/h$", "spec.rules[0].http.paths[0].path", pathType(networkingv1.PathTypeImplementationSpecific, "regex")),
		ingField("annotation path-type", "begin", "annotation path-type", func(ing *networkingv1.Ingress, v string) {
			ing.Annotations = map[string]string{"haproxy-ingress.github.io/path-type": v}
		}),
		ingField("annotation ssl-redirect", "true", "annotation ssl-redirect", func(ing *networkingv1.Ingress, v string) {
			ing.Annotations = map[string]string{"ingress.kubernetes.io/ssl-redirect": v}
		}),
		ingField("ingress name", "hostile", "metadata", func(ing *networkingv1.Ingress, v string) { ing.Name = v }),
		ingField("ingress namespace", hostileNS, "metadata", func(ing *networkingv1.Ingress, v string) { ing.Namespace = v }),
		ingField("service name", "web", "spec.rules[0].http.paths[0].backend", func(ing *networkingv1.Ingress, v string) {
			path0(ing).Backend.Service.Name = v
		}),
		ingField("service port name", "http", "spec.rules[0].http.paths[0].backend", func(ing *networkingv1.Ingress, v string) {
			path0(ing).Backend.Service.Port = networkingv1.ServiceBackendPort{Name: v}
		}),
		ingField("default backend service", "web", "spec.defaultBackend", func(ing *networkingv1.Ingress, v string) {
			ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: v, Port: networkingv1.ServiceBackendPort{Number: 80}}}
		}),
		ingField("tls secret name", "h-tls", "spec.tls[0].secretName", func(ing *networkingv1.Ingress, v string) { ing.Spec.TLS[0].SecretName = v }),
		ingField("tls host", "h.test", "spec.tls[0].hosts", func(ing *networkingv1.Ingress, v string) { ing.Spec.TLS[0].Hosts = []string{v} }),
		{"endpoint address", "127.0.0.2", func(s *model.Snapshot, _ *model.Options, v string) (model.Ref, string) {
			es := s.EndpointSlices[0].DeepCopy()
			es.Name, es.Endpoints = "web-2", []discoveryv1.Endpoint{{Addresses: []string{v}}}
			s.EndpointSlices = append(s.EndpointSlices, es)
			return model.Ref{Kind: "EndpointSlice", Namespace: es.Namespace, Name: es.Name}, "endpoints[0].addresses[0]"
		}, nil},
		secretField("secret tls.crt", string(cert), "tls.crt"),
		secretField("secret tls.key", string(key), "tls.key"),
		{"default-backend-service flag", hostileNS + "/web", func(_ *model.Snapshot, o *model.Options, v string) (model.Ref, string) {
			o.DefaultBackendService = v
			return model.Ref{Kind: "Options", Name: "controller"}, "default-backend-service"
		}, nil},
		{"default certificate", string(cert) + string(key), func(_ *model.Snapshot, o *model.Options, v string) (model.Ref, string) {
			o.DefaultCertificate = []byte(v)
			return model.Ref{Kind: "Options", Name: "controller"}, "default-certificate"
		}, func(_ *model.Snapshot, o *model.Options) { o.DefaultCertificate = nil }},
	}
	fields = append(fields, vhostHostileFields(t)...)
	// A TCP services ConfigMap with another entry, valid.
	tcpServices := func(s *model.Snapshot) map[string]string {
		s.TCPServices = &model.TCPServicesSource{Source: tcpServicesRef, Data: map[string]string{"9000": hostileNS + "/web:80"}}
		return s.TCPServices.Data
	}
	withoutTCP := func(s *model.Snapshot, _ *model.Options) { tcpServices(s) }
	fields = append(fields,
		hostileField{"tcp service", hostileNS + "/web:http:PROXY:PROXY-V2:base-tls:1s:base-ca", func(s *model.Snapshot, _ *model.Options, v string) (model.Ref, string) {
			s.Secrets = append(s.Secrets, caSecret("base-ca", cert))
			tcpServices(s)["9001"] = v
			return tcpServicesRef, "data[9001]"
		}, withoutTCP},
		hostileField{"tcp service port", "9001", func(s *model.Snapshot, _ *model.Options, v string) (model.Ref, string) {
			tcpServices(s)[v] = hostileNS + "/web:80"
			return tcpServicesRef, "data["
		}, withoutTCP})
	// use-resolver names a resolver the ConfigMap declares.
	resolver := func(s *model.Snapshot, v *string) model.Ref {
		s.ConfigMap["dns-resolvers"] = "kube=127.0.0.1:5353"
		return hostileIngress(s, func(ing *networkingv1.Ingress) {
			if v != nil {
				ing.Annotations = map[string]string{"haproxy-ingress.github.io/use-resolver": *v}
			}
		})
	}
	fields = append(fields, hostileField{"annotation use-resolver", "kube", func(s *model.Snapshot, _ *model.Options, v string) (model.Ref, string) {
		return resolver(s, &v), "annotation haproxy-ingress.github.io/use-resolver"
	}, func(s *model.Snapshot, _ *model.Options) { resolver(s, nil) }})
	for _, k := range configMapKeys {
		fields = append(fields, hostileField{"configmap " + k.key, k.benign, func(s *model.Snapshot, _ *model.Options, v string) (model.Ref, string) {
			s.ConfigMap[k.key] = v
			return model.ConfigMapRef, k.key
		}, func(s *model.Snapshot, _ *model.Options) { delete(s.ConfigMap, k.key) }})
	}
	return fields
}

// configMapKeys are every ConfigMap key with a valid value.
var configMapKeys = []struct{ key, benign string }{
	{"http-port", "8080"}, {"https-port", "8443"}, {"healthz-port", "10253"}, {"stats-port", "1936"},
	{"bind-ip-addr-http", "127.0.0.1"}, {"bind-ip-addr-healthz", "127.0.0.1"}, {"bind-ip-addr-stats", "127.0.0.1"},
	{"syslog-endpoint", "127.0.0.1:514"}, {"syslog-format", "raw"}, {"syslog-tag", "ingress"},
	{"timeout-client", "50s"}, {"timeout-client-fin", "50s"}, {"timeout-connect", "5s"}, {"timeout-http-request", "5s"},
	{"timeout-keep-alive", "1m"}, {"timeout-queue", "5s"}, {"timeout-server", "50s"}, {"timeout-server-fin", "50s"},
	{"timeout-stop", "10m"}, {"timeout-tunnel", "1h"}, {"max-connections", "2000"}, {"nbthread", "2"},
	{"ssl-redirect", "true"}, {"ssl-redirect-code", "302"}, {"balance-algorithm", "random(2)"}, {"forwardfor", "add"},
	{"hsts", "true"}, {"hsts-include-subdomains", "true"}, {"hsts-max-age", "15768000"}, {"hsts-preload", "true"},
	{"backend-server-slots-increment", "4"}, {"slots-min-free", "2"},
	{"redirect-to-code", "308"}, {"redirect-from-code", "301"}, {"proxy-body-size", "1m"},
	{"affinity", "cookie"}, {"session-cookie-name", "S"}, {"session-cookie-keywords", "attr SameSite=None domain a.test"}, {"cookie-key", "k"},
	{"backend-protocol", "h2-ssl"}, {"secure-backends", "true"}, {"secure-sni", "b.example"},
	{"maxconn-server", "10"}, {"limit-rps", "5"}, {"use-proxy-protocol", "true"}, {"limit-connections", "3"}, {"limit-whitelist", "10.0.0.0/8"}, {"health-check-uri", "/healthz"}, {"health-check-interval", "2s"}, {"proxy-protocol", "v2"},
	{"initial-weight", "50"}, {"https-log-format", "%ci %b"}, {"blue-green-balance", "v=blue=1,v=green=2"}, {"blue-green-mode", "pod"}, {"drain-support", "true"}, {"drain-support-redispatch", "false"}, {"session-cookie-same-site", "true"}, {"session-cookie-shared", "true"},
	{"bind-http", ":8081,:::8081"}, {"bind-https", "127.0.0.1:8444"},
	{"load-server-state", "true"}, {"blue-green-header", "X-Version:v"}, {"blue-green-cookie", "version:v"},
	{"fronting-proxy-port", "8000"}, {"use-forwarded-proto", "false"}, {"tcp-log-format", "%ci %b"}, {"bind-ip-addr-tcp", "127.0.0.1"},
	{"dns-resolvers", "kube=127.0.0.1:5353,127.0.0.2\nlocal=[::1]:53"}, {"dns-cluster-domain", "cluster.local"}, {"dns-accepted-payload-size", "4096"},
	{"dns-hold-valid", "10s"}, {"dns-hold-obsolete", "0s"}, {"dns-timeout-retry", "2s"},
}

func tlsSecret(name string, cert, key []byte) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: hostileNS}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": cert, "tls.key": key}}
}

// tlsPair splits the default test bundle into certificate and key.
func tlsPair(t *testing.T) ([]byte, []byte) {
	b := defaultCert(t)
	i := bytes.Index(b, []byte("-----BEGIN PRIVATE KEY"))
	return b[:i], b[i:]
}

// hostileBase is the valid rest of the cluster: one Ingress with TLS, its
// Service and endpoints, and a ConfigMap.
func hostileBase(t *testing.T) (*model.Snapshot, model.Options) {
	cert, key := tlsPair(t)
	port := int32(8080)
	base := ingress("base", "base.test", "/", "web")
	base.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"base.test"}, SecretName: "base-tls"}}
	return &model.Snapshot{
		Ingresses: []*networkingv1.Ingress{base},
		Services: []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: hostileNS},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}},
		EndpointSlices: []*discoveryv1.EndpointSlice{{
			ObjectMeta:  metav1.ObjectMeta{Name: "web-1", Namespace: hostileNS, Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: &port}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"127.0.0.1"}}},
		}},
		Secrets:   []*corev1.Secret{tlsSecret("base-tls", cert, key)},
		ConfigMap: map[string]string{"syslog-endpoint": "127.0.0.1:514"},
	}, model.Options{DefaultCertificate: defaultCert(t)}
}

func ptr[T any](v T) *T { return &v }

// rendered builds and renders the base cluster with f carrying v.
func rendered(t *testing.T, l files.Layout, f *hostileField, v string) (files.Set, []model.Problem, model.Ref, string) {
	s, o := hostileBase(t)
	ref, field := f.add(s, &o, v)
	m, problems := model.Build(s, o)
	return render.Render(m, l), problems, ref, field
}

// renderedWithout renders the base cluster as it is when f's object is
// refused.
func renderedWithout(t *testing.T, l files.Layout, f *hostileField) files.Set {
	s, o := hostileBase(t)
	if f.without != nil {
		f.without(s, &o)
	}
	m, _ := model.Build(s, o)
	return render.Render(m, l)
}

// TestHostileInput puts every hostile token, alone and after a valid value,
// into every field that reaches haproxy's files. Each input is either
// refused — a problem names its object and field, with a message short
// enough for an Event, and the files are exactly those of the cluster
// without it — or accepted, and then its files have the same lines as with
// the field's valid value, map lines differing only in their key. Every
// distinct rendered configuration passes haproxy -c (2.6 and 3.0).
func TestHostileInput(t *testing.T) {
	fields := hostileFields(t)
	l := hostileLayout(haproxybin.TempDir(t))
	distinct := map[[32]byte]files.Set{}
	keep := func(set files.Set) {
		h := sha256.New()
		for _, f := range set {
			h.Write([]byte(f.Path + "\x00"))
			h.Write(f.Data)
			h.Write([]byte{0})
		}
		var k [32]byte
		copy(k[:], h.Sum(nil))
		distinct[k] = set
	}
	inputs, refused := 0, 0
	for i := range fields {
		f := &fields[i]
		absent := renderedWithout(t, l, f)
		keep(absent)
		benign, benignProblems, ref, field := rendered(t, l, f, f.benign)
		if p := problemOn(benignProblems, ref, field); p != nil {
			t.Fatalf("%s: valid value %q refused: %s", f.name, f.benign, p)
		}
		keep(benign)
		for _, tok := range hostileTokens {
			for _, v := range []string{f.benign + tok, tok} {
				inputs++
				got, problems, ref, field := rendered(t, l, f, v)
				keep(got)
				if p := problemOn(problems, ref, field); p != nil {
					refused++
					if len(p.Message) > 1024 {
						t.Errorf("%s %.40q: problem of %d bytes, too long for an Event", f.name, v, len(p.Message))
					}
					if diff := setDiff(got, absent); diff != "" {
						t.Errorf("%s %.40q: refused, yet the files differ from the cluster without it: %s", f.name, v, diff)
					}
					continue
				}
				if diff := sameShape(got, benign); diff != "" {
					t.Errorf("%s %.40q: accepted, and the files differ in shape from the valid value's: %s", f.name, v, diff)
				}
			}
		}
	}
	t.Logf("hostile inputs: %d (%d fields × %d tokens × 2), %d refused with a problem, %d accepted harmlessly; %d distinct configurations",
		inputs, len(fields), len(hostileTokens), refused, inputs-refused, len(distinct))
	keys := make([][32]byte, 0, len(distinct))
	for k := range distinct {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i][:], keys[j][:]) < 0 })
	haproxybin.Run(t, func(t *testing.T, b haproxybin.Build) {
		for _, k := range keys {
			writeSet(t, distinct[k], l)
			if out, err := haproxyC(b.Path, l); err != nil {
				t.Errorf("haproxy -c refuses a rendered configuration: %v\n%s", err, out)
			}
		}
	})
}

func problemOn(ps []model.Problem, ref model.Ref, field string) *model.Problem {
	for i, p := range ps {
		if p.Object == ref && strings.HasPrefix(p.Field, field) {
			return &ps[i]
		}
	}
	return nil
}

// setDiff names the first difference of two sets.
func setDiff(a, b files.Set) string {
	if len(a) != len(b) {
		return strconv.Itoa(len(a)) + " files, want " + strconv.Itoa(len(b))
	}
	for i := range a {
		if a[i].Path != b[i].Path || !bytes.Equal(a[i].Data, b[i].Data) {
			return a[i].Path
		}
	}
	return ""
}

// sameShape accepts a set equal to want except for map keys: same files,
// same config and certificate bytes, map files with the same number of
// "<key> <value>" lines and the same values.
func sameShape(got, want files.Set) string {
	if len(got) != len(want) {
		return strconv.Itoa(len(got)) + " files, want " + strconv.Itoa(len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Path != w.Path {
			return g.Path + ", want " + w.Path
		}
		if !strings.HasSuffix(g.Path, ".map") {
			if !bytes.Equal(g.Data, w.Data) {
				return g.Path
			}
			continue
		}
		gl, wl := strings.Split(string(g.Data), "\n"), strings.Split(string(w.Data), "\n")
		if len(gl) != len(wl) {
			return g.Path + ": " + strconv.Itoa(len(gl)) + " lines, want " + strconv.Itoa(len(wl))
		}
		for j := range gl {
			gf, wf := strings.Fields(gl[j]), strings.Fields(wl[j])
			if len(gf) != len(wf) || len(gf) == 2 && gf[1] != wf[1] || strings.ContainsAny(gl[j], "\r\x00") {
				return g.Path + ": line " + strconv.Quote(gl[j])
			}
		}
	}
	return ""
}

func hostileLayout(dir string) files.Layout {
	return files.Layout{Etc: dir + "/etc", Lib: dir + "/lib", Run: dir + "/run"}
}
