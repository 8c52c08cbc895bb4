package render_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/render"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// oddDir is a directory name with everything a file path may carry into
// the config except what options reject: space, both quotes, backslash,
// "#", parentheses.
const oddDir = `we ir'd"\#(x)`

// rawResponse sends req as written (Go's client would normalise the Host
// and the request line) and returns the status and body of the answer.
func rawResponse(t *testing.T, port int, req string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%q: %v", req, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestHostHeaderLive checks with real requests that the Host header cannot
// choose the path: a Host that is not a valid host[:port] gets 400 from
// haproxy and reaches no backend, valid ones (any case, with port, final
// dot, IP literals) still route. It runs on a layout whose directory name
// needs quoting, so it also shows that every quoted path loads.
func TestHostHeaderLive(t *testing.T) { haproxybin.Run(t, testHostHeaderLive) }

func testHostHeaderLive(t *testing.T, hb haproxybin.Build) {
	prefix := networkingv1.PathTypePrefix
	rules := []liveRule{
		{"app.example", "/", prefix, "app-root"},
		{"app.example", "/admin", prefix, "app-admin"},
		{"other.example", "/admin", prefix, "other-admin"},
		{"", "/open", prefix, "open"},
	}
	get := func(target, host string) string {
		return "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"
	}
	hostile := map[string]string{
		"slash":                 get("/x", "app.example/admin"),
		"slash with port":       get("/x", "app.example:80/admin"),
		"hash":                  get("/x", "app.example#/admin"),
		"space":                 get("/x", "app.example /admin"),
		"percent":               get("/x", "app.example%2Fadmin"),
		"at":                    get("/x", "user@app.example"),
		"backslash":             get("/x", `app.example\admin`),
		"control":               get("/x", "app.example\x01"),
		"comma list":            get("/admin", "x.example, other.example"),
		"empty":                 get("/x", ""),
		"absent":                "GET /x HTTP/1.1\r\nConnection: close\r\n\r\n",
		"two hosts":             "GET /admin HTTP/1.1\r\nHost: app.example\r\nHost: other.example\r\nConnection: close\r\n\r\n",
		"over-long":             get("/x", strings.Repeat("a.", 127)+"example"),
		"long label":            get("/x", strings.Repeat("a", 64)+".example"),
		"port 0":                get("/x", "app.example:0"),
		"port too big":          get("/x", "app.example:65536"),
		"empty port":            get("/x", "app.example:"),
		"leading zero port":     get("/x", "app.example:080"),
		"ipv6 zone":             get("/open", "[fe80::1%25eth0]"),
		"ipv6 unbracketed":      get("/open", "::1"),
		"absolute other":        get("http://other.example/admin", "app.example"),
		"absolute https other":  get("https://other.example/admin", "app.example"),
		"absolute without host": "GET http://other.example/admin HTTP/1.1\r\nConnection: close\r\n\r\n",
		"asterisk":              "OPTIONS * HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n",
	}
	valid := []struct{ name, req, want string }{
		{"plain", get("/admin/x", "app.example"), "app-admin"},
		{"upper case and port", get("/admin", "APP.Example:8080"), "app-admin"},
		{"final dot", get("/admin", "app.example."), "app-admin"},
		{"final dot and port", get("/admin", "other.example.:80"), "other-admin"},
		{"absolute same host", get("http://app.example/admin", "app.example"), "app-admin"},
		{"underscore", get("/open", "my_host.example"), "open"},
		{"ipv4", get("/open", "127.0.0.1:8080"), "open"},
		{"ipv6", get("/open", "[::1]:8080"), "open"},
		{"http/1.0 without host", "GET /open HTTP/1.0\r\n\r\n", "open"},
		{"http/1.0 without host, host route", "GET /admin HTTP/1.0\r\n\r\n", "404"},
	}
	lv := startLive(t, hb.Path, filepath.Join(haproxybin.TempDir(t), oddDir), rules)
	for what, req := range hostile {
		before := lv.reached.Load()
		if status, body := rawResponse(t, lv.httpPort, req); status != 400 || lv.reached.Load() != before {
			t.Errorf("%s %q: got %d %q, reached a backend: %v; want 400 before routing", what, req, status, body, lv.reached.Load() != before)
		}
	}
	for _, c := range valid {
		status, body := rawResponse(t, lv.httpPort, c.req)
		if status != 200 {
			body = strconv.Itoa(status)
		}
		if body != c.want {
			t.Errorf("%s %q: got %q, want %q", c.name, c.req, body, c.want)
		}
	}
	// HTTP/2 has no Host header: haproxy makes one of :authority.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}
	for host, want := range map[string]int{"app.example,other.example": 400, "app.example%2Fadmin": 400, "APP.example:443": 200} {
		req, _ := http.NewRequest("GET", "https://127.0.0.1:"+strconv.Itoa(lv.httpsPort)+"/x", nil)
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("h2 %q: %v", host, err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != want {
			t.Errorf("h2 :authority %q: got %s %d, want HTTP/2 %d", host, resp.Proto, resp.StatusCode, want)
		}
	}
}

// TestQuotedPaths renders into a layout whose directory name needs quoting
// and checks how each path is written for haproxy's parsers: one
// single-quoted word for keyword arguments, double quotes inside that for
// a converter argument, names relative to crt-base in the crt-list.
func TestQuotedPaths(t *testing.T) {
	cert, err := os.ReadFile("testdata/default-cert.pem")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := model.Build(&model.Snapshot{}, model.Options{DefaultCertificate: cert})
	root := "/x/" + oddDir
	l := files.Layout{Etc: root + "/etc", Lib: root + "/lib", Run: root + "/run"}
	var cfg string
	for _, f := range render.Render(m, l) {
		if strings.HasSuffix(f.Path, ".cfg") {
			cfg += string(f.Data)
		}
	}
	q := `'/x/we ir'\''d"\#(x)`
	for _, want := range []string{
		"    stats socket " + q + "/run/admin.sock' mode 600",
		"    crt-base " + q + "/lib/crt'\n",
		" ssl crt " + q + "/lib/crt/default.pem' crt-list " + q + "/lib/crt/crt-list.txt' ",
		`,map_str('"/x/we ir'\''d\"\\#(x)/etc/maps/http-exact.map"')` + "\n",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
}
