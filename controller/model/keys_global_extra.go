package model

import (
	"regexp"
	"strconv"
	"strings"
)

// globalExtraKeys are global ConfigMap keys of the answers and logs of the
// http and https frontends, and of the master process.
var globalExtraKeys = []configKey{
	&key[string]{KeyInfo: KeyInfo{Name: "server-header", Scope: ScopeGlobal, Default: "haproxy", Reload: true,
		Accepts: "up to 128 printable ASCII characters (a header value); empty: no header added",
		Doc:     "Server header of the answers that carry none: the backends' and those haproxy makes itself (404, 403, redirects, errors)"},
		parse:  func(v string) (string, bool) { return v, len(v) <= 128 && headerValueRe.MatchString(v) },
		global: func(g *Global) *string { return &g.ServerHeader }},
	httpResponseKey(404, "the answer when no route and no default backend service matches", func(g *Global) **HTTPResponse { return &g.HTTPResponse404 }),
	httpResponseKey(503, "the answer when a backend has no server available", func(g *Global) **HTTPResponse { return &g.HTTPResponse503 }),
	&key[string]{KeyInfo: KeyInfo{Name: "http-log-format", Scope: ScopeGlobal, Reload: true, Accepts: httpLogFormat.accepts,
		Doc: "log format of the http and https frontends (with syslog-endpoint); empty: haproxy's httplog format"},
		parse:  func(v string) (string, bool) { return v, v == "" || httpLogFormat.valid(v) },
		global: func(g *Global) *string { return &g.HTTPLogFormat }},
	&key[string]{KeyInfo: KeyInfo{Name: "https-log-format", Scope: ScopeGlobal, Reload: true, Accepts: "default, or " + tcpLogFormat.accepts,
		Doc: "log format of the ssl-passthrough TCP frontend, which reads the SNI of every https connection (with syslog-endpoint); default: haproxy's tcplog format; empty: not logged"},
		parse:  func(v string) (string, bool) { return v, v == "" || v == "default" || tcpLogFormat.valid(v) },
		global: func(g *Global) *string { return &g.HTTPSLogFormat }},
	&key[string]{KeyInfo: KeyInfo{Name: "tcp-log-format", Scope: ScopeGlobal, Reload: true, Accepts: tcpLogFormat.accepts,
		Doc: "log format of the TCP services of --tcp-services-configmap (with syslog-endpoint); empty: haproxy's tcplog format"},
		parse:  func(v string) (string, bool) { return v, v == "" || tcpLogFormat.valid(v) },
		global: func(g *Global) *string { return &g.TCPLogFormat }},
	ipKey("bind-ip-addr-tcp", ScopeGlobal, "address the TCP services of --tcp-services-configmap bind; empty: all", func(g *Global) *string { return &g.BindIPTCP }),
	intKey("worker-max-reloads", ScopeGlobal, "0", 0, 1000000, "reloads an old worker survives before it is stopped (mworker-max-reloads); 0: unlimited",
		func(g *Global) *int { return &g.WorkerMaxReloads }),
	boolKey("load-server-state", ScopeGlobal, "false", "servers keep their state over a reload (server-state-file): one health checks took down stays down "+
		"instead of getting requests until its checks fail again; only a server the reload leaves at its address and port keeps it",
		func(g *Global) *bool { return &g.LoadServerState }),
}

// headerValueRe is an HTTP field value haproxy keeps as it is: visible
// ASCII, inner spaces, nothing that could end a line.
var headerValueRe = regexp.MustCompile(`^([!-~]([ !-~]*[!-~])?)?$`)

// HTTPResponse is an answer haproxy gives itself instead of its builtin one.
type HTTPResponse struct {
	Status  int
	Reason  string
	Headers []Header // in order; never Content-Length, which the render computes
	Body    string
}

// Header is one header line of an HTTPResponse.
type Header struct{ Name, Value string }

// maxHTTPResponse bounds a custom answer: haproxy wants an error file to fit
// in a buffer (16 kB by default) with room left for its rewrites.
const maxHTTPResponse = 8192

var (
	statusLineRe = regexp.MustCompile(`^([1-5][0-9][0-9])(?: ([ -~]{1,64}))?$`)
	headerNameRe = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
)

func httpResponseKey(code int, doc string, field func(*Global) **HTTPResponse) configKey {
	return newKey(KeyInfo{Name: "http-response-" + strconv.Itoa(code), Scope: ScopeGlobal, Reload: true,
		Accepts: "an optional first line \"STATUS [REASON]\" (STATUS from 200 to 599), then header lines \"name: value\", " +
			"then an empty line and the body; at most " + strconv.Itoa(maxHTTPResponse) + " bytes, no Content-Length or Transfer-Encoding",
		Doc: "custom " + strconv.Itoa(code) + " answer: " + doc},
		func(v string) (*HTTPResponse, bool) { return parseHTTPResponse(code, v) }, field)
}

// parseHTTPResponse reads upstream's syntax: an optional status line, header
// lines up to the first empty line, the body after it. Empty: haproxy's own
// answer (nil).
func parseHTTPResponse(code int, v string) (*HTTPResponse, bool) {
	if v == "" {
		return nil, true
	}
	if len(v) > maxHTTPResponse {
		return nil, false
	}
	r := &HTTPResponse{Status: code}
	head, body, _ := strings.Cut(v, "\n\n")
	if strings.HasPrefix(v, "\n") {
		head, body = "", v[1:]
	}
	r.Body = body
	lines := strings.Split(head, "\n")
	if m := statusLineRe.FindStringSubmatch(lines[0]); m != nil {
		r.Status, _ = strconv.Atoi(m[1])
		r.Reason = m[2]
		lines = lines[1:]
		if r.Status < 200 {
			return nil, false
		}
	}
	for _, l := range lines {
		if l == "" {
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		value = strings.TrimSpace(value)
		if !ok || !headerNameRe.MatchString(name) || !headerValueRe.MatchString(value) {
			return nil, false
		}
		switch strings.ToLower(name) {
		case "content-length", "transfer-encoding":
			return nil, false
		}
		r.Headers = append(r.Headers, Header{name, value})
	}
	return r, true
}

// logFormat is what haproxy's log-format parser takes in one kind of
// frontend: its variables and a few sample fetches, with converters.
type logFormat struct {
	vars    map[string]bool
	sample  *regexp.Regexp // %[fetch(,converter)*]
	accepts string
}

// logVarRe is a log-format variable with optional flags.
var logVarRe = regexp.MustCompile(`^%(\{[+-][QXE](?:[+-][QXE])*\})?([A-Za-z]+)`)

// newLogFormat lists vars (haproxy's configuration manual 8.2.4, as 2.6 and
// later accept them) and fetches, matched with their arguments checked
// here so that none can close the sample early or fail haproxy's parser;
// samples names them for the docs.
func newLogFormat(vars, fetches, examples, samples string) logFormat {
	f := logFormat{vars: map[string]bool{},
		sample: regexp.MustCompile(`^%(\{[+-][QXE](?:[+-][QXE])*\})?\[(` + fetches + `)(,(lower|upper|hex|base64))*\]`),
		accepts: "up to 1024 printable ASCII characters: text, %% for a percent sign, haproxy's log variables (" + examples +
			") and %[sample] of " + samples + " with converters lower, upper, hex, base64"}
	for _, v := range strings.Fields(vars) {
		f.vars[v] = true
	}
	return f
}

var (
	// httpLogFormat is a log format of the http and https frontends.
	httpLogFormat = newLogFormat(`B CC CS H HM HP HQ HU HV ID ST T Ta Tc Td Th Ti Tl Tq Tr Ts Tt Tu Tw U
		ac b bc bi bp bq ci cp f fc fi fp ft hr hrl hs hsl lc ms pid r rc rt s sc si sp sq sslc sslv t tr trg trl ts tsc`,
		`src|src_port|dst|dst_port|var\(txn\.[a-z0-9_]{1,32}\)|capture\.re[qs]\.hdr\([0-9]\)|capture\.req\.uri|capture\.req\.method|ssl_fc_sni|ssl_fc_protocol|ssl_fc_cipher`,
		"%ci, %ST, %{+Q}r...", "src, src_port, dst, dst_port, var(txn.NAME), capture.req.hdr(N), capture.res.hdr(N), "+
			"capture.req.uri, capture.req.method, ssl_fc_sni, ssl_fc_protocol, ssl_fc_cipher")
	// tcpLogFormat is a log format of the TCP frontend of ssl-passthrough,
	// which sees no HTTP and decrypts no TLS: tcplog's variables and the
	// connection's addresses.
	tcpLogFormat = newLogFormat(`B H T Tc Th Tt Tw U ac b bc bi bp bq ci cp f fc fi fp ft lc ms pid rc s sc si sp sq t ts`,
		`src|src_port|dst|dst_port|var\(txn\.[a-z0-9_]{1,32}\)`, "%ci, %b, %Tt...", "src, src_port, dst, dst_port, var(txn.NAME)")
)

// valid tells whether haproxy takes v as it is: printable ASCII only (no
// line break can end the config line), every "%" a known variable, a
// listed sample or "%%".
func (f logFormat) valid(v string) bool {
	if len(v) > 1024 {
		return false
	}
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c < ' ' || c > '~':
			return false
		case c != '%':
			i++
		case strings.HasPrefix(v[i:], "%%"):
			i += 2
		default:
			if m := f.sample.FindString(v[i:]); m != "" {
				i += len(m)
				continue
			}
			m := logVarRe.FindStringSubmatch(v[i:])
			if m == nil || !f.vars[m[2]] {
				return false
			}
			i += len(m[0])
		}
	}
	return true
}
