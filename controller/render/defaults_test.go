package render

import (
	"testing"

	"github.com/external-haproxy/kit/controller/model"
)

func TestDefaultsSnippets(t *testing.T) {
	base := model.Global{
		BalanceAlgorithm: "roundrobin", ForwardFor: "ignore",
		TimeoutClient: 50_000, TimeoutClientFin: 1_000, TimeoutConnect: 5_000, TimeoutHTTPRequest: 5,
		TimeoutKeepAlive: 60_000, TimeoutQueue: 5_000, TimeoutServer: 3_600_000, TimeoutServerFin: 2_000,
		TimeoutTunnel: 86_400_000,
	}
	runSnippets(t, base, []snippet{
		{name: "timeouts", want: []string{
			"timeout client 50s", "timeout client-fin 1s", "timeout connect 5s", "timeout http-request 5ms",
			"timeout http-keep-alive 1m", "timeout queue 5s", "timeout server 1h", "timeout server-fin 2s",
			"timeout tunnel 1d",
		}},
		{name: "balance", set: func(g *model.Global) { g.BalanceAlgorithm = "leastconn" },
			want: []string{"balance leastconn"}},
		{name: "forwardfor add", set: func(g *model.Global) { g.ForwardFor = "add" },
			want: []string{"option forwardfor"}},
		{name: "forwardfor ifmissing", set: func(g *model.Global) { g.ForwardFor = "ifmissing" },
			want: []string{"option forwardfor if-none"}},
		{name: "forwardfor ignore", absent: []string{"option forwardfor"}},
		{name: "no syslog", absent: []string{"log", "option dontlognull"}},
		{name: "syslog", set: func(g *model.Global) { g.SyslogEndpoint = "stdout" },
			want: []string{"log global", "option dontlognull"}},
		{name: "no drain-support", absent: []string{"option persist", "option redispatch"}},
		{name: "drain-support", set: func(g *model.Global) { g.DrainSupport, g.DrainRedispatch = true, true },
			want: []string{"option redispatch", "option persist"}},
		{name: "drain-support without redispatch", set: func(g *model.Global) { g.DrainSupport = true },
			want: []string{"option persist"}, absent: []string{"option redispatch"}},
	}, defaults)
}
