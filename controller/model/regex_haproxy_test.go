package model_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/internal/loopback"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/poll"
)

// genRegex writes a random pattern of the supported grammar over a small
// alphabet, so that random subjects often match.
func genRegex(r *rand.Rand, depth int) string {
	var b strings.Builder
	if depth == 0 && r.Intn(3) == 0 {
		b.WriteByte('^')
		b.WriteString(genConcat(r, 1))
	} else {
		b.WriteString(genAlt(r, depth+1))
	}
	if r.Intn(3) == 0 {
		b.WriteByte('$')
	}
	return b.String()
}

func genAlt(r *rand.Rand, depth int) string {
	parts := []string{genConcat(r, depth)}
	for r.Intn(4) == 0 {
		parts = append(parts, genConcat(r, depth))
	}
	return strings.Join(parts, "|")
}

func genConcat(r *rand.Rand, depth int) string {
	var b strings.Builder
	for n := 1 + r.Intn(4); n > 0; n-- {
		atom := genAtom(r, depth)
		b.WriteString(atom)
		if atom[0] == '(' {
			b.WriteString(pick(r, "", "", "?", "??", "{2}", "{0,2}", "{1,3}?", "*"))
		} else {
			b.WriteString(pick(r, "", "", "", "*", "+", "?", "*?", "+?", "??", "{2}", "{1,}", "{0,2}", "{1,3}?"))
		}
	}
	return b.String()
}

func genAtom(r *rand.Rand, depth int) string {
	switch n := r.Intn(10); {
	case n < 4:
		return pick(r, "/", "a", "b", "0", "-", "_", "x")
	case n == 4:
		return pick(r, `\.`, `\-`, `\/`, `\d`, `\w`, `\D`, `\W`, `\S`, `\s`)
	case n == 5:
		return "."
	case n == 6:
		return pick(r, "[a-b]", "[^/]", "[/a]", "[-_.]", `[\d_]`, "[0-9a]", "[^a-b0]", `[\w.]`, `[a\-]`)
	case depth < 3:
		return pick(r, "(", "(?:") + genAlt(r, depth+1) + ")"
	default:
		return "a"
	}
}

// longSubject is the path length up to which the subset is proven: beyond,
// PCRE2's backtracking limit can make a pattern with overlapping
// repetitions stop matching where RE2 matches (one generated pattern in
// five corpora did at 1 kB).
const longSubject = 256

func pick(r *rand.Rand, s ...string) string { return s[r.Intn(len(s))] }

// regexSubjects are request paths over the generators' alphabet, a few of
// them up to longSubject bytes: PCRE2's backtracking limits must not change
// a match there.
func regexSubjects(r *rand.Rand, n int) []string {
	const half = longSubject / 2
	out := []string{"/", "/a", "/ab", "/a/b", "/x.y", "/0", "/a-b_0", "/aa/bb/", "/b0a", "/_",
		"/" + strings.Repeat("ab", half-1), "/" + strings.Repeat("a", longSubject-3) + "/b", "/" + strings.Repeat("a/", half-1), strings.Repeat("/x.y", longSubject/4)}
	for len(out) < n {
		var b strings.Builder
		b.WriteByte('/')
		for k := r.Intn(7); k > 0; k-- {
			b.WriteString(pick(r, "/", "a", "b", "0", "-", "_", "x", ".", "A", "%"))
		}
		out = append(out, b.String())
	}
	return out
}

// regexCorpus is the hand-written accepted regexes and generated ones the
// model accepts.
func regexCorpus(t *testing.T) []string {
	r := rand.New(rand.NewSource(1))
	corpus := append([]string{}, model.AcceptedRegexes...)
	seen := map[string]bool{}
	for _, re := range corpus {
		seen[re] = true
	}
	generated, rejected := 0, 0
	for generated < 300 {
		re := genRegex(r, 0)
		if seen[re] {
			continue
		}
		seen[re] = true
		if model.CheckRegexPath(re) != nil {
			rejected++ // nested unbounded repetition, mostly
			continue
		}
		corpus = append(corpus, re)
		generated++
	}
	t.Logf("regex corpus: %d hand-written, %d generated (%d generated ones rejected by the model)", len(model.AcceptedRegexes), generated, rejected)
	return corpus
}

// addRegexRoute adds the i-th Ingress (by age) routing regex re for host
// to Service svc, and that Service.
func addRegexRoute(snap *model.Snapshot, i int, host, re, svc string) *networkingv1.Ingress {
	impl := networkingv1.PathTypeImplementationSpecific
	ing := ingress(svc, host, re, svc)
	ing.Annotations = map[string]string{"haproxy-ingress.github.io/path-type": "regex"}
	ing.CreationTimestamp = metav1.Unix(int64(i), 0)
	ing.Spec.Rules[0].HTTP.Paths[0].PathType = &impl
	snap.Ingresses = append(snap.Ingresses, ing)
	snap.Services = append(snap.Services, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: svc, Namespace: "ns"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}})
	return ing
}

// regexSnapshot routes regex i for host r<i>.test and, without host, to
// Service s<i>.
func regexSnapshot(corpus []string) *model.Snapshot {
	snap := &model.Snapshot{}
	for i, re := range corpus {
		ing := addRegexRoute(snap, i, "r"+strconv.Itoa(i)+".test", re, "s"+strconv.Itoa(i))
		ing.Spec.Rules = append(ing.Spec.Rules, *ing.Spec.Rules[0].DeepCopy())
		ing.Spec.Rules[1].Host = ""
	}
	return snap
}

// TestRegexSubsetOnHAProxy proves the regex subset on the real haproxy: the
// corpus renders into a configuration haproxy -c accepts, and for every
// regex and subject haproxy's PCRE2 (asked through the runtime API's "get
// map", which matches as map_reg does) agrees with Go's RE2 on the raw
// regex: host-wrapped (one host per regex, so each is checked alone, and
// hosts that merely start with the route's host never match) and in the
// first-match map of rules without host. The user-reported patterns are
// refused by the model (TestRegexRejected).
func TestRegexSubsetOnHAProxy(t *testing.T) {
	corpus := regexCorpus(t)
	subjects := regexSubjects(rand.New(rand.NewSource(2)), 40)
	m, problems := model.Build(regexSnapshot(corpus), model.Options{})
	for _, p := range problems {
		if p.Severity == model.Error && p.Object.Kind == "Ingress" {
			t.Fatalf("regex refused: %s", p)
		}
	}
	haproxybin.Run(t, func(t *testing.T, b haproxybin.Build) {
		l := writeRendered(t, m, haproxybin.TempDir(t))
		if err := haproxyCheck(t, b.Path, l); err != nil {
			t.Fatal(err)
		}
		startHAProxy(t, b.Path, l)
		regexMap, anyMap := l.Maps()+"/http-regex.map", l.Maps()+"/http-regex-any.map"
		var queries []string
		var want []string
		for i, re := range corpus {
			goRe := regexp.MustCompile(re)
			backend := "ns_s" + strconv.Itoa(i) + "_80"
			host := "r" + strconv.Itoa(i) + ".test"
			for _, s := range subjects {
				queries = append(queries, "get map "+regexMap+" "+host+s)
				want = append(want, map[bool]string{true: backend, false: ""}[goRe.MatchString(s)])
			}
			for _, bleed := range []string{host + ".evil", host + "x", "x" + host} {
				queries = append(queries, "get map "+regexMap+" "+bleed+"/a")
				want = append(want, "")
			}
		}
		for _, s := range subjects {
			queries = append(queries, "get map "+anyMap+" "+s)
			want = append(want, firstMatch(t, l, s))
		}
		got := getMap(t, l, queries)
		bad := 0
		for i := range queries {
			if got[i] != want[i] {
				if bad++; bad <= 20 {
					t.Errorf("%.150s (%d bytes): haproxy %q, Go %q", queries[i], len(queries[i]), got[i], want[i])
				}
			}
		}
		t.Logf("%d map lookups, %d disagreements", len(queries), bad)
		liveRegexRequests(t, b.Path)
	})
}

// firstMatch is what Go's regexp says the first-match map of rules without
// host gives for subject: the value of its first line whose regex matches.
func firstMatch(t *testing.T, l files.Layout, subject string) string {
	data, err := os.ReadFile(l.Maps() + "/http-regex-any.map")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		key, value, _ := strings.Cut(line, " ")
		if regexp.MustCompile(key).MatchString(subject) {
			return value
		}
	}
	return ""
}

// startHAProxy runs haproxy on the rendered files until the test ends and
// waits for its admin socket.
func startHAProxy(t *testing.T, bin string, l files.Layout) {
	ctx, cancel := context.WithCancel(context.Background())
	// Cancelling ctx SIGKILLs haproxy: the end of the test, not a graceful
	// stop under test.
	cmd := exec.CommandContext(ctx, bin, "-db", "-f", l.Etc)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	err := poll.Until(ctx, 10*time.Second, func() (bool, error) {
		c, err := net.Dial("unix", l.AdminSocket())
		if err == nil {
			c.Close()
		}
		return err == nil, nil
	}, nil)
	if err != nil {
		t.Fatalf("haproxy's admin socket: %v", err)
	}
}

var mapValueRe = regexp.MustCompile(`found=yes.*value="([^"]*)"`)

// getMap sends the "get map" queries to the admin socket, a batch per
// connection (commands separated by ";" on one line that must fit haproxy's
// buffer, answers by an empty line), and returns each matched value (""
// for no match).
func getMap(t *testing.T, l files.Layout, queries []string) []string {
	var out []string
	for start, end := 0, 0; start < len(queries); start = end {
		for size := 0; end < len(queries) && (end == start || size+len(queries[end]) < 12000); end++ {
			size += len(queries[end]) + 1
		}
		batch := queries[start:end]
		c, err := net.Dial("unix", l.AdminSocket())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, strings.Join(batch, ";")+"\n")
		c.(*net.UnixConn).CloseWrite()
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				continue
			}
			if !strings.HasPrefix(line, "type=") {
				t.Fatalf("unexpected answer %q", line)
			}
			v := ""
			if sub := mapValueRe.FindStringSubmatch(line); sub != nil {
				v = sub[1]
			}
			out = append(out, v)
		}
		c.Close()
		if len(out) != start+len(batch) {
			t.Fatalf("%d answers to %d queries", len(out)-start, len(batch))
		}
	}
	return out
}

// liveRegexRequests sends real requests through haproxy to regex routes
// whose Services answer with their name: the match semantics of the maps
// are the ones requests see, including the host wrapper and the
// first-match order of rules without host.
func liveRegexRequests(t *testing.T, bin string) {
	routes := []struct{ host, re, svc string }{
		{"a.test", `^/api/v[12]/(users|groups)$`, "api"},
		{"a.test", `/x\.y$`, "dot"},
		{"", `^/(a|b)/[0-9]+$`, "ab"},
		{"", `/any`, "any"},
	}
	snap := &model.Snapshot{}
	for i, r := range routes {
		addRegexRoute(snap, i, r.host, r.re, r.svc)
		port := serveName(t, r.svc)
		snap.EndpointSlices = append(snap.EndpointSlices, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: r.svc, Namespace: "ns", Labels: map[string]string{discoveryv1.LabelServiceName: r.svc}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Port: &port}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"127.0.0.1"}}},
		})
	}
	ports := loopback.Ports(t, 3)
	httpPort := ports[0]
	snap.ConfigMap = map[string]string{
		"http-port": strconv.Itoa(httpPort), "healthz-port": strconv.Itoa(ports[1]), "stats-port": strconv.Itoa(ports[2]),
		"bind-ip-addr-http": "127.0.0.1", "bind-ip-addr-healthz": "127.0.0.1", "bind-ip-addr-stats": "127.0.0.1",
	}
	m, _ := model.Build(snap, model.Options{})
	l := writeRendered(t, m, haproxybin.TempDir(t))
	startHAProxy(t, bin, l)
	client := &http.Client{Timeout: 2 * time.Second}
	get := func(host, path string) string {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", httpPort, path), nil)
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return strconv.Itoa(resp.StatusCode)
		}
		return string(body)
	}
	for _, c := range []struct{ host, path, want string }{
		{"a.test", "/api/v1/users", "api"},
		{"a.test", "/api/v2/groups", "api"},
		{"a.test", "/api/v3/users", "404"},
		{"a.test", "/api/v1/users/x", "404"},
		{"a.test", "/deep/x.y", "dot"},
		{"a.test", "/deep/xzy", "404"},
		{"a.test.evil", "/x.y", "404"},
		{"a.testx", "/x.y", "404"},
		{"b.test", "/a/12", "ab"},
		{"b.test", "/b/1x", "404"},
		{"b.test", "/c/any/d", "any"},
	} {
		if got := get(c.host, c.path); got != c.want {
			t.Errorf("GET %s%s: %q, want %q", c.host, c.path, got, c.want)
		}
	}
}

// serveName starts an HTTP server on 127.0.0.1 answering name.
func serveName(t *testing.T, name string) int32 {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, name) })}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return int32(ln.Addr().(*net.TCPAddr).Port)
}
