package model

import (
	"net"
	"regexp"
	"sort"
	"strconv"
)

// Global holds the global ConfigMap keys, validated and defaulted. Every
// string in it is safe to paste into a haproxy config line.
type Global struct {
	HTTPPort, HTTPSPort, HealthzPort, StatsPort int
	BindIPHTTP, BindIPHealthz, BindIPStats      string

	SyslogEndpoint string // "", "stdout" or host:port
	SyslogFormat   string // rfc5424, rfc3164 or raw
	SyslogTag      string

	// Timeouts in haproxy time syntax (e.g. "50s").
	TimeoutClient, TimeoutClientFin, TimeoutConnect, TimeoutHTTPRequest,
	TimeoutKeepAlive, TimeoutQueue, TimeoutServer, TimeoutServerFin,
	TimeoutStop, TimeoutTunnel string

	MaxConnections int
	NbThread       int // 0: haproxy's default

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
	def   string
	apply func(g *Global, v string) bool // false: invalid value
}

var (
	timeRe    = regexp.MustCompile(`^[0-9]{1,9}(us|ms|s|m|h|d)?$`)
	tagRe     = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	balanceRe = regexp.MustCompile(`^(roundrobin|static-rr|leastconn|first|source|random|random\([0-9]{1,2}\))$`)
)

func timeKey(def string, field func(*Global) *string) globalKey {
	return globalKey{def, func(g *Global, v string) bool {
		if !timeRe.MatchString(v) {
			return false
		}
		*field(g) = v
		return true
	}}
}

func intKey(def string, lo, hi int, field func(*Global) *int) globalKey {
	return globalKey{def, func(g *Global, v string) bool {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return false
		}
		*field(g) = n
		return true
	}}
}

func boolKey(def string, field func(*Global) *bool) globalKey {
	return globalKey{def, func(g *Global, v string) bool {
		b, ok := parseBool(v)
		*field(g) = b
		return ok
	}}
}

func enumKey(def string, field func(*Global) *string, values ...string) globalKey {
	return globalKey{def, func(g *Global, v string) bool {
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
	return globalKey{"", func(g *Global, v string) bool {
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
	"syslog-endpoint": {"", func(g *Global, v string) bool {
		if v != "" && v != "stdout" && !validHostPort(v) {
			return false
		}
		g.SyslogEndpoint = v
		return true
	}},
	"syslog-format": enumKey("rfc5424", func(g *Global) *string { return &g.SyslogFormat }, "rfc5424", "rfc3164", "raw"),
	"syslog-tag": {"", func(g *Global, v string) bool {
		if v != "" && !tagRe.MatchString(v) {
			return false
		}
		g.SyslogTag = v
		return true
	}},
	"timeout-client":       timeKey("50s", func(g *Global) *string { return &g.TimeoutClient }),
	"timeout-client-fin":   timeKey("50s", func(g *Global) *string { return &g.TimeoutClientFin }),
	"timeout-connect":      timeKey("5s", func(g *Global) *string { return &g.TimeoutConnect }),
	"timeout-http-request": timeKey("5s", func(g *Global) *string { return &g.TimeoutHTTPRequest }),
	"timeout-keep-alive":   timeKey("1m", func(g *Global) *string { return &g.TimeoutKeepAlive }),
	"timeout-queue":        timeKey("5s", func(g *Global) *string { return &g.TimeoutQueue }),
	"timeout-server":       timeKey("50s", func(g *Global) *string { return &g.TimeoutServer }),
	"timeout-server-fin":   timeKey("50s", func(g *Global) *string { return &g.TimeoutServerFin }),
	"timeout-stop":         timeKey("10m", func(g *Global) *string { return &g.TimeoutStop }),
	"timeout-tunnel":       timeKey("1h", func(g *Global) *string { return &g.TimeoutTunnel }),
	"max-connections":      intKey("2000", 1, 10000000, func(g *Global) *int { return &g.MaxConnections }),
	"nbthread":             intKey("0", 0, 4096, func(g *Global) *int { return &g.NbThread }),
	"ssl-redirect":         boolKey("true", func(g *Global) *bool { return &g.SSLRedirect }),
	"ssl-redirect-code": {"302", func(g *Global, v string) bool {
		switch v {
		case "301", "302", "303", "307", "308":
			g.SSLRedirectCode, _ = strconv.Atoi(v)
			return true
		}
		return false
	}},
	"balance-algorithm": {"roundrobin", func(g *Global, v string) bool {
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
func buildGlobal(data map[string]string, report func(Problem)) Global {
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
			report(Problem{configMapRef, k, "invalid value " + strconv.Quote(data[k]) + ", using default " + strconv.Quote(key.def), Warning})
		}
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
