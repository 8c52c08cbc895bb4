package render

import (
	"testing"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

func TestGlobalSnippets(t *testing.T) {
	base := model.Global{TimeoutStop: 90_000, MaxConnections: 2000}
	runSnippets(t, base, []snippet{
		{name: "limits",
			want:   []string{"master-worker", "hard-stop-after 90s", "maxconn 2000"},
			absent: []string{"nbthread", "log"}},
		{name: "nbthread", set: func(g *model.Global) { g.NbThread = 4 },
			want: []string{"nbthread 4"}},
		{name: "syslog stdout", set: func(g *model.Global) { g.SyslogEndpoint, g.SyslogFormat = "stdout", "rfc5424" },
			want: []string{"log stdout format raw local0"}, absent: []string{"log-tag"}},
		{name: "syslog endpoint", set: func(g *model.Global) { g.SyslogEndpoint, g.SyslogFormat = "10.0.0.1:514", "rfc3164" },
			want: []string{"log 10.0.0.1:514 format rfc3164 local0"}},
		{name: "syslog tag", set: func(g *model.Global) { g.SyslogEndpoint, g.SyslogFormat, g.SyslogTag = "stdout", "raw", "ingress" },
			want: []string{"log stdout format raw local0", "log-tag ingress"}},
	}, func(g *model.Global) []byte { return global(g, files.DefaultLayout("")) })
}
