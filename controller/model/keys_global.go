package model

import (
	"strconv"
	"strings"

	"github.com/external-haproxy/kit/internal/podlayout"
)

// globalKeys are read from the global ConfigMap only.
var globalKeys = []configKey{
	intKey("healthz-port", ScopeGlobal, strconv.Itoa(podlayout.HealthzPort), 1, 65535, "port of haproxy's monitor-uri /healthz", func(g *Global) *int { return &g.HealthzPort }),
	intKey("stats-port", ScopeGlobal, strconv.Itoa(podlayout.StatsPort), 1, 65535, "port of haproxy's stats page", func(g *Global) *int { return &g.StatsPort }),
	ipKey("bind-ip-addr-healthz", ScopeGlobal, "address the healthz frontend binds; empty: all", func(g *Global) *string { return &g.BindIPHealthz }),
	ipKey("bind-ip-addr-stats", ScopeGlobal, "address the stats frontend binds; empty: all", func(g *Global) *string { return &g.BindIPStats }),
	&key[string]{KeyInfo: KeyInfo{Name: "syslog-endpoint", Scope: ScopeGlobal, Accepts: "stdout, or host:port with an IP address or a name that resolves", Reload: true,
		Doc: "where haproxy sends its logs; empty: logging off"},
		parse:  func(v string) (string, bool) { return v, v == "" || v == "stdout" || validHostPort(v) },
		global: func(g *Global) *string { return &g.SyslogEndpoint }},
	enumKey("syslog-format", "rfc5424", "syslog message format", func(g *Global) *string { return &g.SyslogFormat }, "rfc5424", "rfc3164", "raw"),
	&key[string]{KeyInfo: KeyInfo{Name: "syslog-tag", Scope: ScopeGlobal, Accepts: "1 to 64 letters, digits, '.', '_' or '-'", Reload: true, Doc: "tag of the syslog messages"},
		parse:  func(v string) (string, bool) { return v, v == "" || tagRe.MatchString(v) },
		global: func(g *Global) *string { return &g.SyslogTag }},
	timeKey("timeout-client", ScopeGlobal, "50s", "client inactivity timeout", func(g *Global) *Duration { return &g.TimeoutClient }),
	timeKey("timeout-client-fin", ScopeGlobal, "50s", "client inactivity timeout once half-closed", func(g *Global) *Duration { return &g.TimeoutClientFin }),
	timeKey("timeout-stop", ScopeGlobal, "10m", "how long old workers may finish their connections after a reload (hard-stop-after)", func(g *Global) *Duration { return &g.TimeoutStop }),
	intKey("max-connections", ScopeGlobal, "2000", 1, maxConnections, "maximum concurrent connections (maxconn); haproxy needs about twice as many open files", func(g *Global) *int { return &g.MaxConnections }),
	intKey("nbthread", ScopeGlobal, "0", 0, maxThreads, "haproxy threads; 0: haproxy's default", func(g *Global) *int { return &g.NbThread }),
	&key[int]{KeyInfo: KeyInfo{Name: "ssl-redirect-code", Scope: ScopeGlobal, Default: "302", Accepts: "301, 302, 303, 307 or 308", Reload: true, Doc: "HTTP status of the https redirect"},
		parse: parseRedirectCode, global: func(g *Global) *int { return &g.SSLRedirectCode }},
	newKey(KeyInfo{Name: "no-tls-redirect-locations", Scope: ScopeGlobal, Default: "/.well-known/acme-challenge", Accepts: "a comma-separated list of absolute paths",
		Reload: true, Doc: "path prefixes that ssl-redirect never sends to https (ACME http-01 challenges)"},
		parsePathList, func(g *Global) *[]string { return &g.NoTLSRedirect }),
	enumKey("forwardfor", "add", "what to do with the X-Forwarded-For header", func(g *Global) *string { return &g.ForwardFor }, "add", "ignore", "ifmissing"),
}

// parsePathList reads "/a, /b" into its paths.
func parsePathList(v string) ([]string, bool) {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !validPath(f) {
			return nil, false
		}
		out = append(out, f)
	}
	return out, true
}
