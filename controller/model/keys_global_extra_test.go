package model

import (
	"reflect"
	"strings"
	"testing"
)

// TestGlobalExtraKeys: the ConfigMap values land typed in Global; an
// invalid one is a warning naming the key and what it accepts, and the
// default stays.
func TestGlobalExtraKeys(t *testing.T) {
	defaults := buildGlobal(nil, nil, func(Problem) {})
	if defaults.ServerHeader != "haproxy" || defaults.HTTPResponse404 != nil || defaults.HTTPLogFormat != "" || defaults.WorkerMaxReloads != 0 {
		t.Fatalf("defaults: %+v", defaults)
	}
	for _, c := range []struct {
		key, value string
		want       func(g *Global) bool // nil: refused
	}{
		{"server-header", "edge/2 (kit)", func(g *Global) bool { return g.ServerHeader == "edge/2 (kit)" }},
		{"server-header", "", func(g *Global) bool { return g.ServerHeader == "" }},
		{"server-header", "a\r\nSet-Cookie: x", nil},
		{"server-header", " padded", nil},
		{"server-header", "caf\u00e9", nil},
		{"server-header", strings.Repeat("a", 129), nil},
		{"worker-max-reloads", "5", func(g *Global) bool { return g.WorkerMaxReloads == 5 }},
		{"worker-max-reloads", "-1", nil},
		{"http-log-format", "%ci:%cp [%tr] %ft %b/%s %{+Q}r %ST %[var(txn.host),lower] 5%%", func(g *Global) bool { return g.HTTPLogFormat != "" }},
		{"http-log-format", "%{+Q+E}HU %[capture.req.hdr(0)] %[src,hex,base64]", func(g *Global) bool { return g.HTTPLogFormat != "" }},
		{"http-log-format", "line\nbackend evil", nil},
		{"http-log-format", "%nosuchvar", nil},
		{"http-log-format", "%cifoo", nil},
		{"http-log-format", "100%", nil},
		{"http-log-format", "%[req.hdr(host)]", nil},
		{"http-log-format", "%[src,lua.x]", nil},
		{"http-log-format", "%[var(txn.a)", nil},
		{"http-log-format", "%{+Z}r", nil},
		{"http-log-format", "caf\u00e9", nil},
		{"http-log-format", strings.Repeat("a", 1025), nil},
		{"http-response-404", "content-type: text/plain\n\nnot found\n", func(g *Global) bool {
			return reflect.DeepEqual(g.HTTPResponse404, &HTTPResponse{Status: 404, Headers: []Header{{"content-type", "text/plain"}}, Body: "not found\n"})
		}},
		{"http-response-404", "302 Found\nlocation: https://other.test/", func(g *Global) bool {
			return reflect.DeepEqual(g.HTTPResponse404, &HTTPResponse{Status: 302, Reason: "Found", Headers: []Header{{"location", "https://other.test/"}}})
		}},
		{"http-response-503", "\nbody only\n\nwith a blank line", func(g *Global) bool {
			return reflect.DeepEqual(g.HTTPResponse503, &HTTPResponse{Status: 503, Body: "body only\n\nwith a blank line"})
		}},
		{"http-response-503", "503 Back Soon", func(g *Global) bool { return g.HTTPResponse503.Reason == "Back Soon" }},
		{"http-response-404", "content-length: 5\n\nhello", nil},
		{"http-response-404", "Transfer-Encoding: chunked\n\n", nil},
		{"http-response-404", "x-a: b\r\n\r\nbody", nil},
		{"http-response-404", "bad header\n\n", nil},
		{"http-response-404", "x-a: b\x00c\n\n", nil},
		{"http-response-404", "101 Switching Protocols", nil},
		{"http-response-404", "\n" + strings.Repeat("a", maxHTTPResponse), nil},
	} {
		var problems []Problem
		g := buildGlobal(map[string]string{c.key: c.value}, nil, func(p Problem) { problems = append(problems, p) })
		if c.want == nil {
			accepts := keysByName[c.key].info().Accepts
			if len(problems) != 1 || problems[0].Field != c.key || problems[0].Severity != Warning || !strings.Contains(problems[0].Message, accepts) {
				t.Errorf("%s=%q: problems %v, want one warning on the key with %q", c.key, c.value, problems, accepts)
			}
			if !reflect.DeepEqual(g, defaults) {
				t.Errorf("%s=%q: refused value changed the global settings", c.key, c.value)
			}
			continue
		}
		if len(problems) > 0 || !c.want(&g) {
			t.Errorf("%s=%q: problems %v, global %+v", c.key, c.value, problems, g)
		}
	}
}
