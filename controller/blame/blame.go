// Package blame traces the lines haproxy rejects back to the Kubernetes
// objects or ConfigMap keys that produced them, so that the controller can
// leave those out and apply everything else. It is pure: it reads haproxy's
// messages and the model and files they were about, nothing else.
package blame

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/render"
)

// Culprit is an object, or a key of the global ConfigMap (Field), whose
// rendering haproxy rejected. Alert is haproxy's message about it.
type Culprit struct {
	Object model.Ref
	Field  string
	Alert  string
}

// Input is what a rejected configuration was made of.
type Input struct {
	Snapshot *model.Snapshot
	Options  model.Options
	Model    *model.Model
	Set      files.Set
	Layout   files.Layout
}

// haproxy names the place of an error in a few fixed forms; the most precise
// one in an alert wins: a map or crt-list line over a certificate file over
// the config line that loads them.
var (
	mapLineRe     = regexp.MustCompile(`at line (\d+) of file '([^']+)'`)
	crtListLineRe = regexp.MustCompile(`line (\d+) in file '([^']+)'`)
	pemFileRe     = regexp.MustCompile(`'([^']+\.pem)'`)
	cfgLineRe     = regexp.MustCompile(`\[([^][]+):(\d+)\]`)
)

// Find returns the culprits of the [ALERT] lines in alerts, each object
// once, in the order haproxy reported them. Alerts it cannot trace (a
// summary line, or an error in a line no object or key explains) are
// skipped: the caller then keeps the rejection as a whole.
func Find(alerts string, in Input) []Culprit {
	if resolves := in.Options.Resolves; resolves != nil {
		// The ablation below builds the model again per key: look each
		// name up once.
		known := map[string]bool{}
		in.Options.Resolves = func(host string) bool {
			ok, seen := known[host]
			if !seen {
				ok = resolves(host)
				known[host] = ok
			}
			return ok
		}
	}
	t := tracer{in: in, seen: map[Culprit]bool{}, lines: map[string][]string{}}
	for _, a := range strings.Split(alerts, "\n") {
		if strings.Contains(a, "[ALERT]") {
			t.alert(strings.TrimSpace(a))
		}
	}
	return t.out
}

type tracer struct {
	in       Input
	mapLines map[string][]model.Ref // built on first use
	lines    map[string][]string    // files split into lines, on first use
	out      []Culprit
	seen     map[Culprit]bool
}

func (t *tracer) add(alert string, field string, refs ...model.Ref) {
	for _, r := range refs {
		c := Culprit{Object: r, Field: field}
		if r.Kind == "" || t.seen[c] {
			continue
		}
		t.seen[c] = true
		c.Alert = alert
		t.out = append(t.out, c)
	}
}

func (t *tracer) alert(a string) {
	if m := mapLineRe.FindStringSubmatch(a); m != nil {
		if t.mapLines == nil {
			t.mapLines = render.MapLineSources(t.in.Model, t.in.Layout)
		}
		if n, _ := strconv.Atoi(m[1]); n >= 1 && n <= len(t.mapLines[m[2]]) {
			t.add(a, "spec.rules", t.mapLines[m[2]][n-1])
			return
		}
	}
	if m := crtListLineRe.FindStringSubmatch(a); m != nil {
		if n, _ := strconv.Atoi(m[1]); n >= 1 {
			if line, ok := t.line(m[2], n); ok {
				path, _, _ := strings.Cut(line, " ")
				if c := t.certAt(path); c != nil {
					t.add(a, "data", c.Source)
					return
				}
			}
		}
	}
	for _, m := range pemFileRe.FindAllStringSubmatch(a, -1) {
		if c := t.certAt(m[1]); c != nil && c.Source.Kind != "" {
			t.add(a, "data", c.Source)
			return
		}
	}
	if m := cfgLineRe.FindStringSubmatch(a); m != nil {
		n, _ := strconv.Atoi(m[2])
		t.cfgLine(a, m[1], n)
	}
}

func (t *tracer) certAt(path string) *model.Cert {
	for i := range t.in.Model.Certs {
		if c := &t.in.Model.Certs[i]; render.CertPath(t.in.Layout, c.Name) == path {
			return c
		}
	}
	return nil
}

// cfgLine blames a config line: in a backend section, the object whose
// config-backend it comes from, else the Service and the Ingresses routing
// to it; elsewhere (global, defaults, frontends, which only global keys
// shape), the ConfigMap keys without which the line would not be rendered.
func (t *tracer) cfgLine(alert, path string, n int) {
	line, ok := t.line(path, n)
	if !ok {
		return
	}
	if name, ok := strings.CutPrefix(t.section(path, n), "backend "); ok {
		be := t.backend(name)
		if be == nil {
			return
		}
		// A config-backend line is the doing of the object that set it.
		if sn := be.Policy.Snippet; slices.Contains(sn.Lines, strings.TrimSpace(line)) {
			t.add(alert, sn.Field, sn.From)
			return
		}
		t.add(alert, "", be.Service)
		for _, r := range t.in.Model.Routes {
			if r.Backend == name {
				t.add(alert, "spec.rules", r.Source)
			}
		}
		return
	}
	for _, key := range t.explainingKeys(path, line) {
		t.add(alert, key, model.ConfigMapRef)
	}
}

func (t *tracer) backend(name string) *model.Backend {
	for i := range t.in.Model.Backends {
		if t.in.Model.Backends[i].Name == name {
			return &t.in.Model.Backends[i]
		}
	}
	return nil
}

// explainingKeys lists the ConfigMap keys whose removal (back to the
// default) removes line from the file at path. Only the ConfigMap is built
// for this: global, defaults and frontend lines depend on nothing else, and
// this stays cheap however many Ingresses the cluster has.
func (t *tracer) explainingKeys(path, line string) []string {
	cm := t.in.Snapshot.ConfigMap
	render1 := func(data map[string]string) int {
		m, _ := model.Build(&model.Snapshot{ConfigMap: data}, t.in.Options)
		for _, f := range render.Render(m, t.in.Layout) {
			if f.Path == path {
				return countLines(f.Data, line)
			}
		}
		return 0
	}
	base := render1(cm)
	var keys []string
	for _, k := range slices.Sorted(maps.Keys(cm)) {
		without := maps.Clone(cm)
		delete(without, k)
		if render1(without) < base {
			keys = append(keys, k)
		}
	}
	return keys
}

// line returns line n (1-based) of the file at path in the set.
func (t *tracer) line(path string, n int) (string, bool) {
	lines, ok := t.lines[path]
	if !ok {
		for _, f := range t.in.Set {
			if f.Path == path {
				lines = strings.Split(string(f.Data), "\n")
			}
		}
		t.lines[path] = lines
	}
	if n < 1 || n > len(lines) {
		return "", false
	}
	return lines[n-1], true
}

// section returns the header ("backend NAME", "global", ...) of the section
// holding line n: haproxy sections start at an unindented line.
func (t *tracer) section(path string, n int) string {
	for i := n; i >= 1; i-- {
		if l, _ := t.line(path, i); l != "" && l[0] != ' ' && l[0] != '\t' && l[0] != '#' {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func countLines(data []byte, line string) int {
	n := 0
	for _, l := range strings.Split(string(data), "\n") {
		if l == line {
			n++
		}
	}
	return n
}
