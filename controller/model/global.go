package model

import (
	"maps"
	"net"
	"regexp"
	"slices"
	"strconv"
)

// Global holds the global ConfigMap keys, validated and defaulted. Every
// string in it is safe to paste into a haproxy config line.
type Global struct {
	HTTPPort, HTTPSPort, HealthzPort, StatsPort int
	BindIPHTTP, BindIPHealthz, BindIPStats      string
	// BindHTTP and BindHTTPS replace bind-ip-addr-http and the port of
	// their frontend when set (bind-http, bind-https).
	BindHTTP, BindHTTPS []Addr

	DNS DNS // dns-* keys

	SyslogEndpoint string // "", "stdout" or host:port
	SyslogFormat   string // rfc5424, rfc3164 or raw
	SyslogTag      string

	TimeoutClient, TimeoutClientFin, TimeoutConnect, TimeoutHTTPRequest,
	TimeoutKeepAlive, TimeoutQueue, TimeoutServer, TimeoutServerFin,
	TimeoutStop, TimeoutTunnel Duration

	MaxConnections int
	NbThread       int // 0: haproxy's default; at most maxThreads

	SSLRedirect     bool
	SSLRedirectCode int
	// NoTLSRedirect are path prefixes never redirected to https.
	NoTLSRedirect []string

	BalanceAlgorithm string
	CookieKey        string        // dynamic-cookie-key of the backends with affinity
	Cookie           Cookie        // the ConfigMap's affinity of every backend
	Upstream         Upstream      // the ConfigMap's protocol to every backend
	Server           ServerOptions // the ConfigMap's server options of every backend
	ForwardFor       string        // add, ignore or ifmissing

	HSTS                  bool
	HSTSIncludeSubdomains bool
	HSTSMaxAge            int
	HSTSPreload           bool

	Auth             AuthGlobal
	CORS             CORSSettings
	RedirectToCode   int
	RedirectFromCode int
	ProxyBodySize    int64 // bytes; 0: unlimited

	// Server slots per backend: endpoints plus SlotsMinFree, rounded up to
	// a multiple of SlotsIncrement (upstream key names; slots-min-free
	// defaults to 2 here: upstream documents both 0 and 6, and 0 makes every
	// scale-up reload while 6 multiplies servers on big clusters).
	SlotsIncrement int
	SlotsMinFree   int

	// Configuration snippets (config-*), empty unless the controller runs
	// with --allow-config-snippets; ConfigBackend is every backend's
	// default.
	ConfigGlobal, ConfigDefaults, ConfigFrontend, ConfigBackend Snippet
	ServerHeader                                                string        // "": none added
	HTTPResponse404, HTTPResponse503                            *HTTPResponse // nil: haproxy's own
	HTTPLogFormat                                               string        // "": option httplog
	HTTPSLogFormat                                              string        // ssl-passthrough's; "default": option tcplog, "": no log
	TCPLogFormat                                                string        // --tcp-services-configmap frontends'; "": option tcplog
	BindIPTCP                                                   string        // the TCP services' address; "": all IPv4
	WorkerMaxReloads                                            int           // 0: unlimited
	LoadServerState                                             bool          // servers keep their health state over a reload
	BlueGreen                                                   BlueGreen     // every backend's default of the blue-green-* keys
	// DrainSupport keeps endpoints that are not ready or terminating, at
	// weight 0 (drain-support); DrainRedispatch: option redispatch.
	DrainSupport, DrainRedispatch bool
	// Limit is every backend's default of the limit-* keys.
	Limit            RateLimit
	UseProxyProtocol bool // accept-proxy on the client-facing binds
	// FrontingProxyPort is the port of the fronting-proxy frontend; 0: none.
	FrontingProxyPort int
	UseForwardedProto bool // fronting-proxy: X-Forwarded-Proto other than https takes the http path
}

const (
	// maxThreads is MAX_THREADS of Debian's haproxy 2.6 build (haproxy -vv);
	// a larger nbthread is refused.
	maxThreads = 64
	// maxConnections keeps haproxy's file descriptor need (about twice
	// maxconn) below the open-files limit of common container runtimes
	// (1048576): above it haproxy refuses to start ("Cannot raise FD limit").
	maxConnections = 500000
)

// Duration is a haproxy timer in milliseconds, between 1 ms and
// maxDuration: haproxy refuses a longer one ("timer overflow", about 24.8
// days), and 0 would mean no timeout at all (haproxy warns of missing
// timeouts).
type Duration int64

const maxDuration Duration = 1<<31 - 1

var (
	timeRe = regexp.MustCompile(`^([0-9]{1,10})(us|ms|s|m|h|d)?$`)
	tagRe  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	// random(<draws>): haproxy wants at least one draw.
	balanceRe = regexp.MustCompile(`^(roundrobin|static-rr|leastconn|first|source|random|random\([1-9][0-9]?\))$`)
)

// durationUnits are haproxy's time units in milliseconds, largest first;
// without a unit a number is milliseconds.
var durationUnits = []struct {
	name string
	ms   int64
}{{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}, {"", 1}}

// parseDuration reads haproxy's time syntax; microseconds round up to
// whole milliseconds, as haproxy does.
func parseDuration(v string) (Duration, bool) {
	sub := timeRe.FindStringSubmatch(v)
	if sub == nil {
		return 0, false
	}
	n, _ := strconv.ParseInt(sub[1], 10, 64) // at most 10 digits: no overflow below
	ms := (n + 999) / 1000
	for _, u := range durationUnits {
		if u.name == sub[2] {
			ms = n * u.ms
		}
	}
	d := Duration(ms)
	return d, d >= 1 && d <= maxDuration
}

// String renders the duration with the largest unit that keeps it exact.
func (d Duration) String() string {
	for _, u := range durationUnits {
		if int64(d)%u.ms == 0 {
			return strconv.FormatInt(int64(d)/u.ms, 10) + u.name
		}
	}
	panic("unreachable: 1 ms divides every duration")
}

// configMapRef names the global ConfigMap in problems.
var configMapRef = Ref{Kind: "ConfigMap", Name: "global"}

// buildGlobal applies the defaults of the ConfigMap keys, then the
// ConfigMap values in key order. haproxy resolves a syslog-endpoint name
// when it loads the config and refuses one that does not resolve, so a name
// is kept only if resolves (the caller's lookup, nil: none) says it does.
func buildGlobal(data map[string]string, resolves func(host string) bool, report func(Problem)) Global {
	var g Global
	for _, k := range registry {
		if k.inConfigMap() {
			k.setGlobal(&g, k.info().Default)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(data)) {
		k := keysByName[name]
		switch {
		case k == nil:
			report(Problem{configMapRef, name, "unknown key, ignored", Warning})
		case !k.inConfigMap():
			report(Problem{configMapRef, name, "not read from the global ConfigMap (an Ingress annotation only), ignored", Warning})
		case !k.setGlobal(&g, data[name]):
			i := k.info()
			report(Problem{configMapRef, name, "invalid value " + quoteValue(data[name]) + ", want " + i.Accepts + "; using default " + strconv.Quote(i.Default), Warning})
		}
	}
	if host, _, err := net.SplitHostPort(g.SyslogEndpoint); err == nil && net.ParseIP(host) == nil && (resolves == nil || !resolves(host)) {
		report(Problem{configMapRef, "syslog-endpoint", "host " + strconv.Quote(host) + " does not resolve (haproxy would refuse the config), logging off", Warning})
		g.SyslogEndpoint = ""
	}
	return g
}

// defaultPort returns the default of a port key, for clash fallback.
func defaultPort(key string) int {
	n, _ := strconv.Atoi(keysByName[key].info().Default)
	return n
}

func validHostPort(v string) bool {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return false
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return false
	}
	return net.ParseIP(host) != nil || validDNSName(host, false)
}
