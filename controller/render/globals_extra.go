package render

import (
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// serverHeader gives every answer of the frontend a Server header unless it
// has one: http-after-response also runs on the answers haproxy makes itself
// (return, deny, redirect, error files).
func serverHeader(c *cfg, g *model.Global) {
	if g.ServerHeader != "" {
		c.line("http-after-response set-header Server", quoteWord(logFormat(g.ServerHeader)), "unless { res.hdr_cnt(server) gt 0 }")
	}
}

// httpLog is the log format of the http and https frontends. It is set
// here rather than in defaults: frontends without logs would warn about an
// unused log format.
func httpLog(c *cfg, g *model.Global) {
	switch {
	case g.SyslogEndpoint == "":
	case g.HTTPLogFormat != "":
		c.line("log-format", quoteWord(g.HTTPLogFormat))
	default:
		c.line("option httplog")
	}
}

// tcpLog is the log line of the ssl-passthrough frontend: as upstream,
// none unless https-log-format asks for one.
func tcpLog(c *cfg, g *model.Global) {
	switch {
	case g.SyslogEndpoint == "":
	case g.HTTPSLogFormat == "":
		c.line("no log")
	case g.HTTPSLogFormat == "default":
		c.line("option tcplog")
	default:
		c.line("log-format", quoteWord(g.HTTPSLogFormat))
	}
}

// customResponses are the error files of the http-response-<code> keys, by
// status code haproxy would answer.
func customResponses(g *model.Global) []struct {
	code int
	r    *model.HTTPResponse
} {
	return []struct {
		code int
		r    *model.HTTPResponse
	}{{404, g.HTTPResponse404}, {503, g.HTTPResponse503}}
}

// errorFilePath is where the answer haproxy gives for code lives; haproxy
// -f skips the subdirectory.
func errorFilePath(l files.Layout, code int) string {
	return filepath.Join(l.Etc, "errors", strconv.Itoa(code)+".http")
}

// errorFileLines make the frontend answer with the custom responses: the
// answers of its backends too, as haproxy looks an error file up in the
// backend, then in the frontend.
func errorFileLines(c *cfg, g *model.Global, l files.Layout) {
	for _, cr := range customResponses(g) {
		if cr.r != nil {
			c.line("errorfile", itoa(cr.code), quoteWord(errorFilePath(l, cr.code)))
		}
	}
}

// errorFiles are the custom responses as the raw HTTP/1.1 messages haproxy
// error files hold, with their Content-Length.
func errorFiles(g *model.Global, l files.Layout) files.Set {
	var set files.Set
	for _, cr := range customResponses(g) {
		r := cr.r
		if r == nil {
			continue
		}
		reason := r.Reason
		if reason == "" {
			reason = http.StatusText(r.Status)
		}
		var b strings.Builder
		b.WriteString("HTTP/1.1 " + itoa(r.Status) + " " + reason + "\r\n")
		for _, h := range r.Headers {
			b.WriteString(h.Name + ": " + h.Value + "\r\n")
		}
		b.WriteString("content-length: " + itoa(len(r.Body)) + "\r\n\r\n" + r.Body)
		set = append(set, files.File{Path: errorFilePath(l, cr.code), Data: []byte(b.String())})
	}
	return set
}

// masterWorker writes the master process settings of the global section.
func masterWorker(c *cfg, g *model.Global, l files.Layout) {
	if g.WorkerMaxReloads > 0 {
		c.line("mworker-max-reloads", itoa(g.WorkerMaxReloads))
	}
	if g.LoadServerState {
		// Read by every (re)load; the defaults section points the
		// backends at it (serverStateFromFile).
		c.line("server-state-file", quoteWord(l.ServerState()))
	}
}

// serverStateFromFile makes the backends read the global server-state-file.
func serverStateFromFile(c *cfg, g *model.Global) {
	if g.LoadServerState {
		c.line("load-server-state-from-file global")
	}
}

// notFound is the answer of the default backend without service: empty,
// unless http-response-404 makes it the frontend's error file.
func notFound(c *cfg, g *model.Global) {
	if g.HTTPResponse404 != nil {
		c.line("http-request return status 404 default-errorfiles")
		return
	}
	c.line("http-request return status 404")
}
