package render

import (
	"testing"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

func TestGlobalExtraFrontendSnippets(t *testing.T) {
	l := files.DefaultLayout("")
	fs := []model.Frontend{{Kind: model.FrontendHTTP, Port: 80}, {Kind: model.FrontendHTTPS, Port: 443}}
	runSnippets(t, model.Global{ForwardFor: "ignore", HTTPSPort: 443}, []snippet{
		{name: "no server header", absent: []string{"http-after-response", "errorfile", "log-format"}},
		{name: "server header, quoted and escaped for log-format", set: func(g *model.Global) { g.ServerHeader = `it's 100%` },
			want: []string{`http-after-response set-header Server 'it'\''s 100%%' unless { res.hdr_cnt(server) gt 0 }`}},
		{name: "log format", set: func(g *model.Global) { g.SyslogEndpoint, g.HTTPLogFormat = "stdout", "%ci 'x'" },
			want: []string{`log-format '%ci '\''x'\'''`}, absent: []string{"option httplog"}},
		{name: "log format without syslog", set: func(g *model.Global) { g.HTTPLogFormat = "%ci" }, absent: []string{"log-format"}},
		{name: "error files", set: func(g *model.Global) {
			g.HTTPResponse404, g.HTTPResponse503 = &model.HTTPResponse{}, &model.HTTPResponse{}
		},
			want: []string{"errorfile 404 '/etc/haproxy/errors/404.http'", "errorfile 503 '/etc/haproxy/errors/503.http'"}},
	}, func(g *model.Global) []byte { return frontends(fs, g, policies{}, l) })
}

// TestPassthroughLogSnippets: the ssl-passthrough frontend logs only when
// https-log-format asks, in tcplog's format or its own.
func TestPassthroughLogSnippets(t *testing.T) {
	runSnippets(t, model.Global{SyslogEndpoint: "stdout"}, []snippet{
		{name: "not logged by default", want: []string{"no log"}, absent: []string{"option tcplog", "log-format"}},
		{name: "tcplog", set: func(g *model.Global) { g.HTTPSLogFormat = "default" }, want: []string{"option tcplog"}, absent: []string{"no log"}},
		{name: "own format", set: func(g *model.Global) { g.HTTPSLogFormat = "%ci %b" }, want: []string{"log-format '%ci %b'"}, absent: []string{"no log"}},
		{name: "without syslog", set: func(g *model.Global) { g.SyslogEndpoint, g.HTTPSLogFormat = "", "%ci" }, absent: []string{"no log", "log-format"}},
	}, func(g *model.Global) []byte {
		var c cfg
		tcpLog(&c, g)
		return c.bytes()
	})
}

func TestGlobalExtraSnippets(t *testing.T) {
	runSnippets(t, model.Global{}, []snippet{
		{name: "unlimited reloads", absent: []string{"mworker-max-reloads"}},
		{name: "worker max reloads", set: func(g *model.Global) { g.WorkerMaxReloads = 3 }, want: []string{"mworker-max-reloads 3"}},
		{name: "no server state", absent: []string{"server-state"}},
		{name: "server state", set: func(g *model.Global) { g.LoadServerState = true }, want: []string{"server-state-file '/var/lib/haproxy/server-state'"}},
	}, func(g *model.Global) []byte { return global(g, files.DefaultLayout("")) })
	runSnippets(t, model.Global{}, []snippet{
		{name: "backends without server state", absent: []string{"load-server-state"}},
		{name: "backends read the server state", set: func(g *model.Global) { g.LoadServerState = true }, want: []string{"load-server-state-from-file global"}},
	}, defaults)
	def := []model.Backend{{Name: model.DefaultBackendName}}
	runSnippets(t, model.Global{}, []snippet{
		{name: "empty 404", want: []string{"http-request return status 404"}},
		{name: "custom 404", set: func(g *model.Global) { g.HTTPResponse404 = &model.HTTPResponse{Status: 404} },
			want: []string{"http-request return status 404 default-errorfiles"}},
	}, func(g *model.Global) []byte { return backends(g, def) })
}

// TestErrorFiles: a custom answer is an HTTP/1.1 message with the
// reason of its status unless it sets one, and its Content-Length.
func TestErrorFiles(t *testing.T) {
	l := files.DefaultLayout("")
	g := model.Global{
		HTTPResponse404: &model.HTTPResponse{Status: 404, Headers: []model.Header{{Name: "content-type", Value: "text/plain"}}, Body: "gone\n"},
		HTTPResponse503: &model.HTTPResponse{Status: 503, Reason: "Back Soon"},
	}
	set := errorFiles(&g, l)
	want := map[string]string{
		"/etc/haproxy/errors/404.http": "HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\ngone\n",
		"/etc/haproxy/errors/503.http": "HTTP/1.1 503 Back Soon\r\ncontent-length: 0\r\n\r\n",
	}
	if len(set) != len(want) {
		t.Fatalf("files %v", set)
	}
	for _, f := range set {
		if string(f.Data) != want[f.Path] {
			t.Errorf("%s: %q, want %q", f.Path, f.Data, want[f.Path])
		}
	}
	if set := errorFiles(&model.Global{}, l); len(set) != 0 {
		t.Errorf("files without custom answers: %v", set)
	}
}
