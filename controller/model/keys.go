package model

import (
	"net"
	"sort"
	"strconv"
	"strings"
)

// The key registry: every configuration key, with upstream's name, scope and
// meaning, declared once. It lives in package model because a key's parser
// lands its typed value in model types (Global, Match) and Build reads the
// registry; a package of its own would need those types moved out of the
// model or values passed around untyped.

// Scope is where a key applies, in upstream's terms. Global keys are read
// from the global ConfigMap only; the other scopes can also be set by the
// IngressClass parameters ConfigMap and by annotations (see resolve).
type Scope string

const (
	ScopeGlobal   Scope = "Global"
	ScopeFrontend Scope = "Frontend"
	ScopeHost     Scope = "Host"
	ScopeBackend  Scope = "Backend"
	ScopePath     Scope = "Path"
	ScopeTCP      Scope = "TCP"
)

// KeyInfo is what the reference documentation says about a key.
type KeyInfo struct {
	Name    string
	Scope   Scope
	Default string // as written in the ConfigMap; "" : none
	Accepts string // the values it takes, for docs and problems
	// Reload: a change of the key's value can need a haproxy reload (a
	// global ConfigMap change always does).
	Reload bool
	Doc    string // one line
	// PerObject: read from the IngressClass parameters ConfigMap and from
	// annotations, not only from the global ConfigMap. Keys whose upstream
	// scope allows it but whose per-object value the model does not carry
	// yet are not, so that such an annotation is reported, never silently
	// ignored.
	PerObject bool
}

// configKey is a registry entry, whatever the type of its value.
type configKey interface {
	info() *KeyInfo
	// setGlobal parses v into the key's field of Global; false: invalid,
	// g untouched. Only for keys inConfigMap.
	setGlobal(g *Global, v string) bool
	// inConfigMap tells whether the global ConfigMap may set the key.
	inConfigMap() bool
}

// key is a key whose values parse into T.
type key[T any] struct {
	KeyInfo
	parse func(v string) (T, bool)
	// global is where the global ConfigMap value lands (for non-Global
	// scopes: the default of every object); nil: not read from the ConfigMap.
	global func(g *Global) *T
}

func (k *key[T]) info() *KeyInfo    { return &k.KeyInfo }
func (k *key[T]) inConfigMap() bool { return k.global != nil }

// def is the typed default; the registry test checks that every default parses.
func (k *key[T]) def() T {
	t, _ := k.parse(k.Default)
	return t
}

func (k *key[T]) setGlobal(g *Global, v string) bool {
	t, ok := k.parse(v)
	if ok {
		*k.global(g) = t
	}
	return ok
}

const timeAccepts = "a time from 1ms to 2147483647ms (about 24.8 days): digits and a unit us, ms, s, m, h or d"

func timeKey(name string, scope Scope, def, doc string, field func(*Global) *Duration) *key[Duration] {
	return &key[Duration]{KeyInfo{Name: name, Scope: scope, Default: def, Accepts: timeAccepts, Reload: true, Doc: doc}, parseDuration, field}
}

func intKey(name string, scope Scope, def string, lo, hi int, doc string, field func(*Global) *int) *key[int] {
	return &key[int]{KeyInfo{Name: name, Scope: scope, Default: def, Accepts: "an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi), Reload: true, Doc: doc}, func(v string) (int, bool) {
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= lo && n <= hi
	}, field}
}

func boolKey(name string, scope Scope, def, doc string, field func(*Global) *bool) *key[bool] {
	return &key[bool]{KeyInfo{Name: name, Scope: scope, Default: def, Accepts: "true or false", Reload: true, Doc: doc}, parseBool, field}
}

func enumKey(name, def, doc string, field func(*Global) *string, values ...string) *key[string] {
	return &key[string]{KeyInfo{Name: name, Scope: ScopeGlobal, Default: def, Accepts: "one of " + strings.Join(values, ", "), Reload: true, Doc: doc}, func(v string) (string, bool) {
		for _, a := range values {
			if v == a {
				return v, true
			}
		}
		return "", false
	}, field}
}

func ipKey(name string, scope Scope, doc string, field func(*Global) *string) *key[string] {
	return &key[string]{KeyInfo{Name: name, Scope: scope, Accepts: "an IPv4 or IPv6 address", Reload: true, Doc: doc}, func(v string) (string, bool) {
		return v, v == "" || net.ParseIP(v) != nil
	}, field}
}

func perObject[T any](k *key[T]) *key[T] {
	k.PerObject = true
	return k
}

func parseBool(v string) (bool, bool) {
	b, err := strconv.ParseBool(v)
	return b, err == nil
}

// Keys read by Build outside of the global ConfigMap loop.
var (
	keySSLRedirect = perObject(boolKey("ssl-redirect", ScopePath, "true", "redirect http to https for paths whose host has TLS", func(g *Global) *bool { return &g.SSLRedirect }))
	keyPathType    = &key[Match]{KeyInfo{Name: "path-type", Scope: ScopePath, Default: "begin", Accepts: "begin, prefix, exact or regex", Reload: true,
		Doc: "how ImplementationSpecific paths match; a change to or from regex needs a reload (order-dependent map)", PerObject: true},
		func(v string) (Match, bool) {
			switch m := Match(v); m {
			case MatchBegin, MatchPrefix, MatchExact, MatchRegex:
				return m, true
			}
			return "", false
		}, nil}
)

// registry lists every key, in the order of the reference documentation.
var registry = []configKey{
	intKey("http-port", ScopeFrontend, "80", 1, 65535, "port of the http frontend", func(g *Global) *int { return &g.HTTPPort }),
	intKey("https-port", ScopeFrontend, "443", 1, 65535, "port of the https frontend", func(g *Global) *int { return &g.HTTPSPort }),
	intKey("healthz-port", ScopeGlobal, "10253", 1, 65535, "port of haproxy's monitor-uri /healthz", func(g *Global) *int { return &g.HealthzPort }),
	intKey("stats-port", ScopeGlobal, "1936", 1, 65535, "port of haproxy's stats page", func(g *Global) *int { return &g.StatsPort }),
	ipKey("bind-ip-addr-http", ScopeFrontend, "address the http and https frontends bind; empty: all", func(g *Global) *string { return &g.BindIPHTTP }),
	ipKey("bind-ip-addr-healthz", ScopeGlobal, "address the healthz frontend binds; empty: all", func(g *Global) *string { return &g.BindIPHealthz }),
	ipKey("bind-ip-addr-stats", ScopeGlobal, "address the stats frontend binds; empty: all", func(g *Global) *string { return &g.BindIPStats }),
	&key[string]{KeyInfo{Name: "syslog-endpoint", Scope: ScopeGlobal, Accepts: "stdout, or host:port with an IP address or a name that resolves", Reload: true,
		Doc: "where haproxy sends its logs; empty: logging off"},
		func(v string) (string, bool) { return v, v == "" || v == "stdout" || validHostPort(v) },
		func(g *Global) *string { return &g.SyslogEndpoint }},
	enumKey("syslog-format", "rfc5424", "syslog message format", func(g *Global) *string { return &g.SyslogFormat }, "rfc5424", "rfc3164", "raw"),
	&key[string]{KeyInfo{Name: "syslog-tag", Scope: ScopeGlobal, Accepts: "1 to 64 letters, digits, '.', '_' or '-'", Reload: true, Doc: "tag of the syslog messages"},
		func(v string) (string, bool) { return v, v == "" || tagRe.MatchString(v) },
		func(g *Global) *string { return &g.SyslogTag }},
	timeKey("timeout-client", ScopeGlobal, "50s", "client inactivity timeout", func(g *Global) *Duration { return &g.TimeoutClient }),
	timeKey("timeout-client-fin", ScopeGlobal, "50s", "client inactivity timeout once half-closed", func(g *Global) *Duration { return &g.TimeoutClientFin }),
	timeKey("timeout-connect", ScopeBackend, "5s", "timeout of a connection to a server", func(g *Global) *Duration { return &g.TimeoutConnect }),
	timeKey("timeout-http-request", ScopeBackend, "5s", "time a client has to send a whole request", func(g *Global) *Duration { return &g.TimeoutHTTPRequest }),
	timeKey("timeout-keep-alive", ScopeBackend, "1m", "time to wait for the next request on a kept-alive connection", func(g *Global) *Duration { return &g.TimeoutKeepAlive }),
	timeKey("timeout-queue", ScopeBackend, "5s", "time a request may wait for a free server", func(g *Global) *Duration { return &g.TimeoutQueue }),
	timeKey("timeout-server", ScopeBackend, "50s", "server inactivity timeout", func(g *Global) *Duration { return &g.TimeoutServer }),
	timeKey("timeout-server-fin", ScopeBackend, "50s", "server inactivity timeout once half-closed", func(g *Global) *Duration { return &g.TimeoutServerFin }),
	timeKey("timeout-stop", ScopeGlobal, "10m", "how long old workers may finish their connections after a reload (hard-stop-after)", func(g *Global) *Duration { return &g.TimeoutStop }),
	timeKey("timeout-tunnel", ScopeBackend, "1h", "inactivity timeout of tunnels (websockets, CONNECT)", func(g *Global) *Duration { return &g.TimeoutTunnel }),
	intKey("max-connections", ScopeGlobal, "2000", 1, maxConnections, "maximum concurrent connections (maxconn); haproxy needs about twice as many open files", func(g *Global) *int { return &g.MaxConnections }),
	intKey("nbthread", ScopeGlobal, "0", 0, maxThreads, "haproxy threads; 0: haproxy's default", func(g *Global) *int { return &g.NbThread }),
	keySSLRedirect,
	&key[int]{KeyInfo{Name: "ssl-redirect-code", Scope: ScopeGlobal, Default: "302", Accepts: "301, 302, 303, 307 or 308", Reload: true, Doc: "HTTP status of the https redirect"},
		func(v string) (int, bool) {
			switch v {
			case "301", "302", "303", "307", "308":
				n, _ := strconv.Atoi(v)
				return n, true
			}
			return 0, false
		}, func(g *Global) *int { return &g.SSLRedirectCode }},
	&key[string]{KeyInfo{Name: "balance-algorithm", Scope: ScopeBackend, Default: "roundrobin", Accepts: "roundrobin, static-rr, leastconn, first, source, random or random(N) with N from 1 to 99", Reload: true,
		Doc: "how a backend picks a server"},
		func(v string) (string, bool) { return v, balanceRe.MatchString(v) },
		func(g *Global) *string { return &g.BalanceAlgorithm }},
	enumKey("forwardfor", "add", "what to do with the X-Forwarded-For header", func(g *Global) *string { return &g.ForwardFor }, "add", "ignore", "ifmissing"),
	boolKey("hsts", ScopePath, "true", "send Strict-Transport-Security on https answers", func(g *Global) *bool { return &g.HSTS }),
	boolKey("hsts-include-subdomains", ScopePath, "false", "add includeSubDomains to Strict-Transport-Security", func(g *Global) *bool { return &g.HSTSIncludeSubdomains }),
	intKey("hsts-max-age", ScopePath, "15768000", 0, 1<<31-1, "max-age of Strict-Transport-Security, in seconds", func(g *Global) *int { return &g.HSTSMaxAge }),
	boolKey("hsts-preload", ScopePath, "false", "add preload to Strict-Transport-Security", func(g *Global) *bool { return &g.HSTSPreload }),
	intKey("backend-server-slots-increment", ScopeBackend, "1", 1, 1024, "server slots of a backend are a multiple of this", func(g *Global) *int { return &g.SlotsIncrement }),
	intKey("slots-min-free", ScopeBackend, "2", 0, 1024, "spare server slots per backend, so that endpoints can change without a reload", func(g *Global) *int { return &g.SlotsMinFree }),
	keyPathType,
}

// keysByName indexes the registry.
var keysByName = func() map[string]configKey {
	m := make(map[string]configKey, len(registry))
	for _, k := range registry {
		if m[k.info().Name] != nil {
			panic("key declared twice: " + k.info().Name)
		}
		m[k.info().Name] = k
	}
	return m
}()

// sortedKeys returns the keys of a string map in order, so that problems
// and fallbacks do not depend on map order.
func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// DefaultAnnotationPrefixes are upstream's --annotations-prefix default.
var DefaultAnnotationPrefixes = []string{"haproxy-ingress.github.io", "ingress.kubernetes.io"}

// layer is one place that sets keys for an object: its values by key name
// and how a problem names the place.
type layer struct {
	ref    Ref
	field  func(name string) string
	values map[string]string
}

// sources are the layers above the global ConfigMap (whose values are in
// Global already), weakest first, as upstream: IngressClass parameters
// ConfigMap < Ingress annotations < Service annotations. A nil layer sets
// nothing.
type sources struct {
	class, ingress, service *layer
}

// resolve returns the strongest layer that sets k, nil if none: keys not
// PerObject (Global ones never are) come from the global ConfigMap only, and
// Services set Backend and Path keys only.
func resolve(k *KeyInfo, s sources) *layer {
	if !k.PerObject {
		return nil
	}
	order := []*layer{s.service, s.ingress, s.class}
	if k.Scope != ScopeBackend && k.Scope != ScopePath {
		order = order[1:]
	}
	for _, l := range order {
		if l == nil {
			continue
		}
		if _, ok := l.values[k.Name]; ok {
			return l
		}
	}
	return nil
}

// value is k's value for an object: def (the global ConfigMap's or the
// default) unless a layer sets it. An invalid value is a Problem naming its
// layer, with def returned.
func value[T any](k *key[T], def T, s sources) (T, *Problem) {
	l := resolve(&k.KeyInfo, s)
	if l == nil {
		return def, nil
	}
	v := l.values[k.Name]
	t, ok := k.parse(v)
	if !ok {
		return def, &Problem{l.ref, l.field(k.Name), "invalid value " + quoteValue(v), Error}
	}
	return t, nil
}

// annotations reads an object's keys under the prefixes, the first prefix
// winning when two set one key. An unknown key, or one read from the
// global ConfigMap only, under a prefix is reported, then ignored.
func annotations(ref Ref, ann map[string]string, prefixes []string, report func(Problem)) *layer {
	l := &layer{ref: ref, field: func(name string) string { return "annotation " + name }, values: map[string]string{}}
	keys := sortedKeys(ann)
	for _, p := range prefixes {
		for _, full := range keys {
			name, ok := strings.CutPrefix(full, p+"/")
			if !ok {
				continue
			}
			switch k := keysByName[name]; {
			case k == nil:
				report(Problem{ref, "annotation " + full, "unknown key, ignored", Warning})
			case k.info().Scope == ScopeGlobal:
				report(Problem{ref, "annotation " + full, "global key, read from the global ConfigMap only; ignored", Warning})
			case !k.info().PerObject:
				report(Problem{ref, "annotation " + full, "read from the global ConfigMap only so far (upstream scope " + string(k.info().Scope) + "); ignored", Warning})
			default:
				if _, set := l.values[name]; !set {
					l.values[name] = ann[full]
				}
			}
		}
	}
	return l
}
