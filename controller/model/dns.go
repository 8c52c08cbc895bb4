package model

import (
	"net/netip"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// DNS is how haproxy resolves the backends of use-resolver itself, from
// the dns-* keys of the global ConfigMap.
type DNS struct {
	Resolvers    []Resolver // dns-resolvers, in the ConfigMap's order
	PayloadSize  int        // dns-accepted-payload-size
	Domain       string     // dns-cluster-domain
	HoldValid    Duration   // dns-hold-valid
	HoldObsolete Duration   // dns-hold-obsolete; 0: haproxy's default
	TimeoutRetry Duration   // dns-timeout-retry
}

// Resolver is one resolvers section of haproxy: a name and its name servers.
type Resolver struct {
	Name        string
	Nameservers []netip.AddrPort
}

// resolver is the resolver called name, nil if dns-resolvers has none.
func (d *DNS) resolver(name string) *Resolver {
	for i := range d.Resolvers {
		if d.Resolvers[i].Name == name {
			return &d.Resolvers[i]
		}
	}
	return nil
}

// Discovery is, on a backend of use-resolver, what haproxy resolves for
// its servers instead of the endpoints the controller reads: a
// server-template of Slots servers on the Service's DNS name.
type Discovery struct {
	Resolver string
	Name     string // <svc>.<ns>.svc.<dns-cluster-domain>
	Port     int
	Slots    int
}

// dnsSlotStep rounds a discovered backend's server count: the count
// follows the endpoints, which change without the controller's help once
// DNS resolves them, so a step this large keeps scaling from reloading.
const dnsSlotStep = 32

// resolverNameRe is a resolvers section name: haproxy takes letters,
// digits, '-', '_', '.' and ':'; the ':' is left out as it would read as a
// port in "name=address".
var resolverNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`)

const (
	resolversAccepts = "lines \"name=ip[:port][,ip[:port]...]\" (name: letters, digits, '-', '_', '.', up to 32; " +
		"port 53 when left out; at most 16 resolvers of 8 name servers)"
	maxResolvers, maxNameservers = 16, 8
)

// parseResolvers reads dns-resolvers: one resolver per line, blank lines
// skipped.
func parseResolvers(v string) ([]Resolver, bool) {
	var out []Resolver
	for _, line := range strings.Split(v, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, list, ok := strings.Cut(line, "=")
		if !ok || !resolverNameRe.MatchString(name) || len(out) == maxResolvers {
			return nil, false
		}
		r := Resolver{Name: name}
		for _, ns := range strings.Split(list, ",") {
			ap, ok := parseNameserver(strings.TrimSpace(ns))
			if !ok || len(r.Nameservers) == maxNameservers {
				return nil, false
			}
			r.Nameservers = append(r.Nameservers, ap)
		}
		for _, o := range out {
			if o.Name == name {
				return nil, false
			}
		}
		out = append(out, r)
	}
	// Blanks alone are no list: empty means none.
	return out, v == "" || len(out) > 0
}

// parseNameserver reads ip, ip:port or [ipv6]:port.
func parseNameserver(v string) (netip.AddrPort, bool) {
	if a, err := netip.ParseAddr(v); err == nil && a.Zone() == "" {
		return netip.AddrPortFrom(a, 53), true
	}
	ap, err := netip.ParseAddrPort(v)
	return ap, err == nil && ap.Addr().Zone() == "" && ap.Port() != 0
}

// parseHold reads a dns-hold-obsolete time, which may be 0: the one
// value of haproxy's syntax parseDuration reads as 0 and refuses.
func parseHold(v string) (Duration, bool) {
	d, ok := parseDuration(v)
	return d, ok || d == 0 && timeRe.MatchString(v)
}

// discover makes be a backend whose servers haproxy resolves, when its
// use-resolver names a resolver of dns-resolvers; a name it lacks is
// reported and the endpoints serve. The port is the Service port's
// numeric targetPort, else the endpoints' port, else the Service port.
func (b *backends) discover(be *Backend, src sources, report func(Problem)) {
	name := be.Policy.Resolver
	if name == "" {
		return
	}
	if b.g.DNS.resolver(name) == nil {
		reportOn(src, "use-resolver", "resolver "+quoteValue(name)+" is not in dns-resolvers; the endpoints are used", report)
		be.Policy.Resolver = ""
		return
	}
	svc := b.services[be.Service.Namespace+"/"+be.Service.Name]
	if svc == nil || b.pick[be.Name] == nil {
		return // reported with the endpoints
	}
	sp := b.pick[be.Name](svc)
	if sp == nil {
		return // reported with the endpoints
	}
	eps := b.eps[be.Name]
	port := int(sp.Port)
	if sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal > 0 {
		port = int(sp.TargetPort.IntVal)
	} else if len(eps) > 0 {
		port = eps[0].port
	}
	be.DNS = &Discovery{Resolver: name, Name: svc.Name + "." + svc.Namespace + ".svc." + b.g.DNS.Domain, Port: port,
		Slots: slotsOf(len(eps), b.g.SlotsMinFree, dnsSlotStep)}
	be.Servers = nil
}
