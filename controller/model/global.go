package model

import (
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Global holds the global ConfigMap keys, validated and defaulted. Every
// string in it is safe to paste into a haproxy config line.
type Global struct {
	HTTPPort, HTTPSPort, HealthzPort, StatsPort int
	BindIPHTTP, BindIPHealthz, BindIPStats      string

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

	BalanceAlgorithm string
	ForwardFor       string // add, ignore or ifmissing

	HSTS                  bool
	HSTSIncludeSubdomains bool
	HSTSMaxAge            int
	HSTSPreload           bool

	// Server slots per backend: endpoints plus SlotsMinFree, rounded up to
	// a multiple of SlotsIncrement (upstream key names; slots-min-free
	// defaults to 2 here: upstream documents both 0 and 6, and 0 makes every
	// scale-up reload while 6 multiplies servers on big clusters).
	SlotsIncrement int
	SlotsMinFree   int
}

// globalKey describes one ConfigMap key: its default and how to apply a value.
type globalKey struct {
	def     string
	accepts string                         // what haproxy accepts, for problems
	apply   func(g *Global, v string) bool // false: invalid value
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

func timeKey(def string, field func(*Global) *Duration) globalKey {
	return globalKey{def, "a time from 1ms to 2147483647ms (about 24.8 days): digits and a unit us, ms, s, m, h or d", func(g *Global, v string) bool {
		d, ok := parseDuration(v)
		if ok {
			*field(g) = d
		}
		return ok
	}}
}

func intKey(def string, lo, hi int, field func(*Global) *int) globalKey {
	return globalKey{def, "an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi), func(g *Global, v string) bool {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return false
		}
		*field(g) = n
		return true
	}}
}

func boolKey(def string, field func(*Global) *bool) globalKey {
	return globalKey{def, "true or false", func(g *Global, v string) bool {
		b, ok := parseBool(v)
		*field(g) = b
		return ok
	}}
}

func enumKey(def string, field func(*Global) *string, values ...string) globalKey {
	return globalKey{def, "one of " + strings.Join(values, ", "), func(g *Global, v string) bool {
		for _, a := range values {
			if v == a {
				*field(g) = v
				return true
			}
		}
		return false
	}}
}

func ipKey(field func(*Global) *string) globalKey {
	return globalKey{"", "an IPv4 or IPv6 address", func(g *Global, v string) bool {
		if v != "" && net.ParseIP(v) == nil {
			return false
		}
		*field(g) = v
		return true
	}}
}

func parseBool(v string) (bool, bool) {
	b, err := strconv.ParseBool(v)
	return b, err == nil
}

var globalKeys = map[string]globalKey{
	"http-port":            intKey("80", 1, 65535, func(g *Global) *int { return &g.HTTPPort }),
	"https-port":           intKey("443", 1, 65535, func(g *Global) *int { return &g.HTTPSPort }),
	"healthz-port":         intKey("10253", 1, 65535, func(g *Global) *int { return &g.HealthzPort }),
	"stats-port":           intKey("1936", 1, 65535, func(g *Global) *int { return &g.StatsPort }),
	"bind-ip-addr-http":    ipKey(func(g *Global) *string { return &g.BindIPHTTP }),
	"bind-ip-addr-healthz": ipKey(func(g *Global) *string { return &g.BindIPHealthz }),
	"bind-ip-addr-stats":   ipKey(func(g *Global) *string { return &g.BindIPStats }),
	"syslog-endpoint": {"", "stdout, or host:port with an IP address or a name that resolves", func(g *Global, v string) bool {
		if v != "" && v != "stdout" && !validHostPort(v) {
			return false
		}
		g.SyslogEndpoint = v
		return true
	}},
	"syslog-format": enumKey("rfc5424", func(g *Global) *string { return &g.SyslogFormat }, "rfc5424", "rfc3164", "raw"),
	"syslog-tag": {"", "1 to 64 letters, digits, '.', '_' or '-'", func(g *Global, v string) bool {
		if v != "" && !tagRe.MatchString(v) {
			return false
		}
		g.SyslogTag = v
		return true
	}},
	"timeout-client":       timeKey("50s", func(g *Global) *Duration { return &g.TimeoutClient }),
	"timeout-client-fin":   timeKey("50s", func(g *Global) *Duration { return &g.TimeoutClientFin }),
	"timeout-connect":      timeKey("5s", func(g *Global) *Duration { return &g.TimeoutConnect }),
	"timeout-http-request": timeKey("5s", func(g *Global) *Duration { return &g.TimeoutHTTPRequest }),
	"timeout-keep-alive":   timeKey("1m", func(g *Global) *Duration { return &g.TimeoutKeepAlive }),
	"timeout-queue":        timeKey("5s", func(g *Global) *Duration { return &g.TimeoutQueue }),
	"timeout-server":       timeKey("50s", func(g *Global) *Duration { return &g.TimeoutServer }),
	"timeout-server-fin":   timeKey("50s", func(g *Global) *Duration { return &g.TimeoutServerFin }),
	"timeout-stop":         timeKey("10m", func(g *Global) *Duration { return &g.TimeoutStop }),
	"timeout-tunnel":       timeKey("1h", func(g *Global) *Duration { return &g.TimeoutTunnel }),
	"max-connections":      intKey("2000", 1, maxConnections, func(g *Global) *int { return &g.MaxConnections }),
	"nbthread":             intKey("0", 0, maxThreads, func(g *Global) *int { return &g.NbThread }),
	"ssl-redirect":         boolKey("true", func(g *Global) *bool { return &g.SSLRedirect }),
	"ssl-redirect-code": {"302", "301, 302, 303, 307 or 308", func(g *Global, v string) bool {
		switch v {
		case "301", "302", "303", "307", "308":
			g.SSLRedirectCode, _ = strconv.Atoi(v)
			return true
		}
		return false
	}},
	"balance-algorithm": {"roundrobin", "roundrobin, static-rr, leastconn, first, source, random or random(N) with N from 1 to 99", func(g *Global, v string) bool {
		if !balanceRe.MatchString(v) {
			return false
		}
		g.BalanceAlgorithm = v
		return true
	}},
	"forwardfor":                     enumKey("add", func(g *Global) *string { return &g.ForwardFor }, "add", "ignore", "ifmissing"),
	"hsts":                           boolKey("true", func(g *Global) *bool { return &g.HSTS }),
	"hsts-include-subdomains":        boolKey("false", func(g *Global) *bool { return &g.HSTSIncludeSubdomains }),
	"hsts-max-age":                   intKey("15768000", 0, 1<<31-1, func(g *Global) *int { return &g.HSTSMaxAge }),
	"hsts-preload":                   boolKey("false", func(g *Global) *bool { return &g.HSTSPreload }),
	"backend-server-slots-increment": intKey("1", 1, 1024, func(g *Global) *int { return &g.SlotsIncrement }),
	"slots-min-free":                 intKey("2", 0, 1024, func(g *Global) *int { return &g.SlotsMinFree }),
}

// configMapRef names the global ConfigMap in problems.
var configMapRef = Ref{Kind: "ConfigMap", Name: "global"}

// buildGlobal applies defaults, then the ConfigMap values in key order.
// haproxy resolves a syslog-endpoint name when it loads the config and
// refuses one that does not resolve, so a name is kept only if resolves
// (the caller's lookup, nil: none) says it does.
func buildGlobal(data map[string]string, resolves func(host string) bool, report func(Problem)) Global {
	var g Global
	keys := make([]string, 0, len(globalKeys))
	for k := range globalKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		globalKeys[k].apply(&g, globalKeys[k].def)
	}
	keys = keys[:0]
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		key, ok := globalKeys[k]
		if !ok {
			report(Problem{configMapRef, k, "unknown key, ignored", Warning})
			continue
		}
		if !key.apply(&g, data[k]) {
			key.apply(&g, key.def)
			report(Problem{configMapRef, k, "invalid value " + quoteValue(data[k]) + ", want " + key.accepts + "; using default " + strconv.Quote(key.def), Warning})
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
	n, _ := strconv.Atoi(globalKeys[key].def)
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
