package model

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/external-haproxy/kit/controller/parallel"
)

// placeholderAddr and placeholderPort fill disabled slots; haproxy never
// connects to a disabled server.
const (
	placeholderAddr = "127.0.0.1"
	placeholderPort = 1
)

// endpoint is one ready address:port of a Service port.
type endpoint struct {
	addr netip.Addr
	port int
}

// labeled is an endpoint and the labels of its pod (nil: none known).
type labeled struct {
	endpoint
	text   string // addr as haproxy reads it
	labels map[string]string
	// draining: not ready or terminating, kept by drain-support.
	draining bool
}

// backends builds each backend once, however many routes share it.
type backends struct {
	services map[string]*corev1.Service              // ns/name
	slices   map[string][]*discoveryv1.EndpointSlice // ns/service-name
	built    map[string]*Backend
	g        *Global
	report   func(Problem)
	warned   map[string]bool // EndpointSlices (ns/name) already reported
	claims   claims          // Backend keys the Ingresses set, by backend name
	secret   func(ns, name string) *corev1.Secret
	pods     map[string]*corev1.Pod // ns/name
	// eps are each backend's endpoints, its enabled servers in slot order;
	// pick finds the port of its Service it serves (see discover).
	eps  map[string][]labeled
	pick map[string]func(*corev1.Service) *corev1.ServicePort
	// cache, if any, keeps the endpoints for the next Build; podRead tells
	// it which pods one read (see cachedEndpoints).
	cache   *Cache
	podRead func(key string, pod *corev1.Pod)
	// fixed are the backends whose policy is set already, which no key
	// changes: those of the TCP services.
	fixed map[string]bool
}

func newBackends(s *Snapshot, g *Global, report func(Problem)) *backends {
	b := &backends{
		services: make(map[string]*corev1.Service, len(s.Services)),
		slices:   make(map[string][]*discoveryv1.EndpointSlice, len(s.EndpointSlices)),
		built:    map[string]*Backend{},
		g:        g,
		report:   report,
		warned:   map[string]bool{},
		claims:   claims{},
		pods:     make(map[string]*corev1.Pod, len(s.Pods)),
		eps:      map[string][]labeled{},
		pick:     map[string]func(*corev1.Service) *corev1.ServicePort{},
		fixed:    map[string]bool{},
	}
	for _, p := range s.Pods {
		b.pods[p.Namespace+"/"+p.Name] = p
	}
	for _, svc := range s.Services {
		b.services[svc.Namespace+"/"+svc.Name] = svc
	}
	for _, es := range s.EndpointSlices {
		name := es.Labels[discoveryv1.LabelServiceName]
		if name == "" {
			continue
		}
		key := es.Namespace + "/" + name
		b.slices[key] = append(b.slices[key], es)
	}
	// In name order: the snapshot's order is the watch cache's, which
	// varies, and the first slice naming an endpoint gives its pod.
	for _, list := range b.slices {
		if len(list) > 1 {
			slices.SortFunc(list, func(a, c *discoveryv1.EndpointSlice) int { return strings.Compare(a.Name, c.Name) })
		}
	}
	return b
}

// backendName is the stable name <ns>_<svc>_<port> with the port as written
// in the Ingress (number or name).
func backendName(ns string, sb *networkingv1.IngressServiceBackend) string {
	port := sb.Port.Name
	if port == "" {
		port = strconv.Itoa(int(sb.Port.Number))
	}
	return ns + "_" + sb.Name + "_" + port
}

// checkServiceBackend rejects names that cannot be used safely.
func checkServiceBackend(sb *networkingv1.IngressServiceBackend) string {
	switch {
	case sb == nil:
		return "only Service backends are supported"
	case !validName(sb.Name):
		return "invalid service name " + quoteValue(sb.Name)
	case sb.Port.Name != "" && !validName(sb.Port.Name):
		return "invalid service port name " + quoteValue(sb.Port.Name)
	case sb.Port.Name == "" && (sb.Port.Number < 1 || sb.Port.Number > 65535):
		return "invalid service port number " + strconv.Itoa(int(sb.Port.Number))
	}
	return ""
}

// forIngress returns the backend name of a validated Service backend,
// building it on first use, and claims the Backend keys the Ingress
// annotations set for it. from is the object reported on problems.
func (b *backends) forIngress(ns string, sb *networkingv1.IngressServiceBackend, from Ref, field string, src sources, by *networkingv1.Ingress) string {
	name := backendName(ns, sb)
	if _, ok := b.built[name]; !ok {
		b.build(name, ns, sb, from, field)
	}
	b.claims.claim(name, "backend", ScopeBackend, src, by, b.report)
	return name
}

// defaultBackendPort builds DefaultBackendName from an Ingress spec.defaultBackend.
func (b *backends) defaultBackendPort(ns string, sb *networkingv1.IngressServiceBackend, from Ref, field string) {
	b.build(DefaultBackendName, ns, sb, from, field)
}

func (b *backends) build(name, ns string, sb *networkingv1.IngressServiceBackend, from Ref, field string) {
	svcRef := Ref{Kind: "Service", Namespace: ns, Name: sb.Name}
	b.add(name, svcRef, func(svc *corev1.Service) *corev1.ServicePort {
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			if sb.Port.Name != "" && p.Name == sb.Port.Name || sb.Port.Name == "" && p.Port == sb.Port.Number {
				return p
			}
		}
		return nil
	}, from, field)
}

// add builds the backend called name on the port of svcRef that pick finds.
func (b *backends) add(name string, svcRef Ref, pick func(*corev1.Service) *corev1.ServicePort, from Ref, field string) {
	eps := b.cachedEndpoints(name, svcRef, pick, from, field)
	b.built[name], b.eps[name], b.pick[name] = &Backend{Name: name, Service: svcRef, Servers: b.slots(eps)}, eps, pick
}

// weigh gives be's servers their own weights: blue-green-balance's, and 0
// for those drain-support keeps, whatever their group; and their groups of
// blue-green-header and -cookie.
func (b *backends) weigh(be *Backend) {
	eps := b.eps[be.Name]
	if label := be.Policy.BlueGreen.SelectorLabel(); label != "" {
		for i, e := range eps {
			// The apiserver checks label values; the map file needs it.
			if v := e.labels[label]; len(validation.IsValidLabelValue(v)) == 0 {
				be.Servers[i].Group = v
			}
		}
	}
	if bg := be.Policy.BlueGreen; len(bg.Groups) > 0 {
		labels := make([]map[string]string, len(eps))
		for i, e := range eps {
			labels[i] = e.labels
		}
		for i, w := range bg.weights(labels, be.Policy.Server.BaseWeight()) {
			be.Servers[i].Weight, be.Servers[i].Weighted = w, true
		}
	}
	for i, e := range eps {
		if e.draining {
			be.Servers[i].Weight, be.Servers[i].Weighted = 0, true
		}
	}
}

// defaultBackend builds DefaultBackendName from --default-backend-service,
// which names no port: the Service's first port is used.
func (b *backends) defaultBackend(svcRef Ref, from Ref, field string) {
	b.add(DefaultBackendName, svcRef, func(svc *corev1.Service) *corev1.ServicePort {
		if len(svc.Spec.Ports) == 0 {
			return nil
		}
		return &svc.Spec.Ports[0]
	}, from, field)
}

// cachedEndpoints is endpoints of the backend called name, through the
// cache if there is one.
func (b *backends) cachedEndpoints(name string, svcRef Ref, pick func(*corev1.Service) *corev1.ServicePort, from Ref, field string) []labeled {
	if b.cache == nil {
		return b.endpoints(svcRef, pick, from, field)
	}
	return b.cache.cachedEndpoints(b, name, svcRef, pick, from, field)
}

// endpoints resolves Service port → EndpointSlice port (by the service port
// name, which slices carry) → ready addresses. Anything missing is a
// warning and an empty list: the backend then answers 503.
func (b *backends) endpoints(svcRef Ref, pick func(*corev1.Service) *corev1.ServicePort, from Ref, field string) []labeled {
	svc := b.services[svcRef.Namespace+"/"+svcRef.Name]
	if svc == nil {
		b.report(Problem{from, field, "service " + svcRef.Namespace + "/" + svcRef.Name + " not found", Warning})
		return nil
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		b.report(Problem{from, field, "service " + svcRef.Namespace + "/" + svcRef.Name + " is ExternalName, not supported", Warning})
		return nil
	}
	sp := pick(svc)
	if sp == nil {
		b.report(Problem{from, field, "port not found in service " + svcRef.Namespace + "/" + svcRef.Name, Warning})
		return nil
	}
	seen := map[endpoint]bool{}
	var eps []labeled
	for _, es := range b.slices[svcRef.Namespace+"/"+svcRef.Name] {
		if es.AddressType != discoveryv1.AddressTypeIPv4 && es.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		port, portAt := 0, -1
		for i, p := range es.Ports {
			if p.Port != nil && (p.Name == nil && sp.Name == "" || p.Name != nil && *p.Name == sp.Name) {
				port, portAt = int(*p.Port), i
			}
		}
		if portAt < 0 {
			continue // the slice does not serve this port
		}
		if port < 1 || port > 65535 {
			b.warnSlice(es, "ports["+strconv.Itoa(portAt)+"].port", "invalid port "+strconv.Itoa(port)+", slice skipped")
			continue
		}
		var badField, badMsg string
		bad := 0
		for i, ep := range es.Endpoints {
			isReady := ready(ep.Conditions)
			if !isReady && !b.g.DrainSupport || len(ep.Addresses) == 0 {
				continue
			}
			// Addresses are fungible per the API; the first is enough.
			addr, err := netip.ParseAddr(ep.Addresses[0])
			if err != nil || addr.Zone() != "" {
				if bad == 0 {
					badField, badMsg = "endpoints["+strconv.Itoa(i)+"].addresses[0]", "invalid address "+quoteValue(ep.Addresses[0])
				}
				bad++
				continue
			}
			e := endpoint{addr.Unmap(), port}
			if !seen[e] {
				seen[e] = true
				// Dotted IPv4 that parses is already in its canonical form.
				text := ep.Addresses[0]
				if !addr.Is4() {
					text = e.addr.String()
				}
				eps = append(eps, labeled{e, text, b.podLabels(es.Namespace, ep.TargetRef), !isReady})
			}
		}
		if bad > 1 {
			badMsg += " and " + strconv.Itoa(bad-1) + " more"
		}
		if bad > 0 {
			b.warnSlice(es, badField, badMsg+" (an IP address without zone), endpoint(s) skipped")
		}
	}
	slices.SortFunc(eps, func(a, c labeled) int { return cmp.Or(a.addr.Compare(c.addr), cmp.Compare(a.port, c.port)) })
	return eps
}

// podLabels are the labels of the pod an endpoint names, if it names one
// of its own namespace that the snapshot holds.
func (b *backends) podLabels(ns string, ref *corev1.ObjectReference) map[string]string {
	if ref == nil || ref.Kind != "Pod" || ref.Namespace != "" && ref.Namespace != ns {
		return nil
	}
	key := ns + "/" + ref.Name
	p := b.pods[key]
	if b.podRead != nil {
		b.podRead(key, p)
	}
	if p == nil {
		return nil
	}
	return p.Labels
}

// warnSlice reports a problem of an EndpointSlice once, however many
// backends use it; equal input gives an equal message, so that the
// pipeline, which reports only new problems, does not repeat it.
func (b *backends) warnSlice(es *discoveryv1.EndpointSlice, field, msg string) {
	key := es.Namespace + "/" + es.Name
	if !b.warned[key] {
		b.warned[key] = true
		b.report(Problem{Ref{"EndpointSlice", es.Namespace, es.Name}, field, msg, Warning})
	}
}

// ready is the EndpointSlice rule: nil means ready; terminating endpoints
// are never used even if still serving.
func ready(c discoveryv1.EndpointConditions) bool {
	return (c.Ready == nil || *c.Ready) && (c.Terminating == nil || !*c.Terminating)
}

// slotCount is how many servers a backend with n endpoints gets: n plus
// SlotsMinFree free slots, rounded up to a multiple of SlotsIncrement, at
// least one so that every backend has a slot to fill at runtime.
func slotCount(n int, g *Global) int { return slotsOf(n, g.SlotsMinFree, g.SlotsIncrement) }

// slotsOf is n plus free, at least one, rounded up to a multiple of step.
func slotsOf(n, free, step int) int {
	return (max(n+free, 1) + step - 1) / step * step
}

// slots lays out endpoints in sorted order followed by disabled placeholders.
func (b *backends) slots(eps []labeled) []Server {
	servers := make([]Server, slotCount(len(eps), b.g))
	for i := range servers {
		servers[i] = Server{Name: serverName(i), Addr: placeholderAddr, Port: placeholderPort}
		if i < len(eps) {
			servers[i].Addr, servers[i].Port, servers[i].Enabled = eps[i].text, eps[i].port, true
		}
	}
	return servers
}

// serverName is the name of slot i: srv001, srv002, …, srv1000, ….
func serverName(i int) string {
	if i < len(serverNames) {
		return serverNames[i]
	}
	return fmt.Sprintf("srv%03d", i+1)
}

// serverNames are the names of the first slots, which every backend has:
// made once instead of per server (100k on large clusters).
var serverNames = func() []string {
	names := make([]string, 64)
	for i := range names {
		names[i] = fmt.Sprintf("srv%03d", i+1)
	}
	return names
}()

// list returns the backends sorted by name, with their policies resolved
// from the IngressClass parameters, the claims of their Ingresses and
// their Service's annotations (service: its layer and the problems reading
// it found), each on its own goroutine; enter is told which backend the
// problems that follow are of.
func (b *backends) list(service func(ns, name string) (layer, []Problem), enter func(name string)) []Backend {
	names := slices.Sorted(maps.Keys(b.built))
	problems := make([][]Problem, len(names))
	parallel.For(len(names), func(i int) {
		be := b.built[names[i]]
		report := func(p Problem) { problems[i] = append(problems[i], p) }
		if !b.fixed[be.Name] {
			var svc layer
			if be.Service.Name != "" {
				svc, problems[i] = service(be.Service.Namespace, be.Service.Name)
				problems[i] = slices.Clip(problems[i])
			}
			src := b.claims.sources(be.Name, svc)
			b.resolve(&be.Policy, be.Service.Namespace, src, report)
			b.discover(be, src, report)
		}
		if be.DNS == nil {
			b.weigh(be)
		}
	})
	// Sorted by name before the copy: sorting the large structs costs more.
	out := make([]Backend, 0, len(names))
	for i, name := range names {
		enter(name)
		for _, p := range problems[i] {
			b.report(p)
		}
		out = append(out, *b.built[name])
	}
	return out
}

// resolve sets the Backend keys of a backend of namespace ns from src on
// p, which may hold what routing decided already (passthrough).
func (b *backends) resolve(p *BackendPolicy, ns string, src sources, report func(Problem)) {
	src = src.withIndex()
	for _, k := range backendRegistry {
		k.setBackend(p, b.g, src, report)
	}
	p.Cookie = p.Cookie.effective(src, report)
	p.BlueGreen = p.BlueGreen.effective(src, report)
	p.Upstream = p.Upstream.effective(ns, b.secret, src, report)
}

// spares is the pool of spare backends, of the policy of a backend nothing
// annotates.
func (b *backends) spares(min int) SparePool {
	if min == 0 {
		return SparePool{}
	}
	return SparePool{Min: min, Slots: slotCount(spareEndpoints, b.g), Policy: b.plainPolicy()}
}

// plainPolicy is the policy of a backend nothing annotates: the global
// values, resolved without reporting, as the backends report their
// problems already.
func (b *backends) plainPolicy() BackendPolicy {
	var p BackendPolicy
	b.resolve(&p, "", sources{}, func(Problem) {})
	return p
}
