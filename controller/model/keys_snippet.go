package model

import (
	"maps"
	"slices"
	"strings"
)

// snippetKeys paste haproxy configuration as written into a section: they
// can do anything haproxy can, so they are read only when the controller
// runs with --allow-config-snippets (Options.AllowConfigSnippets), and
// otherwise reported and ignored wherever they are set.
var snippetKeys = []configKey{
	snippetKey("config-global", ScopeGlobal, "lines added to the global section", func(g *Global) *Snippet { return &g.ConfigGlobal }),
	snippetKey("config-defaults", ScopeGlobal, "lines added to the defaults section", func(g *Global) *Snippet { return &g.ConfigDefaults }),
	snippetKey("config-frontend", ScopeGlobal, "lines added to the http and https frontends, after their rules and before use_backend",
		func(g *Global) *Snippet { return &g.ConfigFrontend }),
	backendSnippetKey{snippetKey("config-backend", ScopeBackend, "lines added to the backend section, before its servers",
		func(g *Global) *Snippet { return &g.ConfigBackend })},
}

// Snippet is the lines of a configuration snippet, each trimmed, without
// blank lines.
type Snippet []string

// BackendSnippet is a backend's config-backend and where it was set, so
// that a line haproxy rejects is traced back to that object alone and not
// to every Ingress of the backend.
type BackendSnippet struct {
	Lines Snippet `json:",omitempty"`
	From  Ref     // ConfigMapRef for the global ConfigMap's
	Field string
}

const snippetAccepts = "haproxy configuration lines, none starting a section (global, backend, ...) or a conditional block (.if), " +
	"without NUL or CR; only with --allow-config-snippets"

func snippetKey(name string, scope Scope, doc string, field func(*Global) *Snippet) *key[Snippet] {
	return newKey(KeyInfo{Name: name, Scope: scope, Accepts: snippetAccepts, Reload: true, Doc: doc, Snippet: true}, parseSnippet, field)
}

// sectionKeywords start a section wherever they stand in a line: a snippet
// holding one would move the lines after it into another section.
var sectionKeywords = []string{"global", "defaults", "frontend", "backend", "listen", "peers", "resolvers", "userlist", "cache",
	"program", "http-errors", "ring", "mailers", "log-forward", "crt-store", "fcgi-app", "traces", "acme"}

func parseSnippet(v string) (Snippet, bool) {
	if strings.ContainsAny(v, "\x00\r") {
		return nil, false
	}
	var out Snippet
	for _, l := range strings.Split(v, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		// Directives such as .if and .endif decide which of the lines
		// after them haproxy reads, generated ones too.
		first, _, _ := strings.Cut(strings.ToLower(l), " ")
		if first, _, _ = strings.Cut(first, "\t"); strings.HasPrefix(first, ".") || slices.Contains(sectionKeywords, first) {
			return nil, false
		}
		out = append(out, l)
	}
	return out, true
}

// backendSnippetKey is config-backend: read per object like any Backend
// key, its value keeps the object and field it comes from.
type backendSnippetKey struct{ *key[Snippet] }

func (k backendSnippetKey) perObject() bool { return true }
func (k backendSnippetKey) lands() (path, backend, host bool) {
	return false, true, false
}

func (k backendSnippetKey) setBackend(p *BackendPolicy, g *Global, s sources, report func(Problem)) {
	lines, problem := value(k.key, g.ConfigBackend, s)
	p.Snippet = BackendSnippet{Lines: lines, From: configMapRef, Field: k.Name}
	if problem != nil {
		report(*problem)
	} else if st, ok := resolve(&k.KeyInfo, s); ok {
		p.Snippet.From, p.Snippet.Field = st.ref, st.field
	}
	if len(lines) == 0 {
		p.Snippet = BackendSnippet{}
	}
}

// snippetsOff is the warning on a snippet key read without
// --allow-config-snippets.
func snippetsOff(ref Ref, field, name string) Problem {
	return Problem{ref, field, name + " is a configuration snippet, read only when the controller runs with --allow-config-snippets; ignored", Warning}
}

// withoutSnippets is the global ConfigMap without its snippet keys, each
// reported, unless allowed.
func withoutSnippets(data map[string]string, allowed bool, report func(Problem)) map[string]string {
	if allowed {
		return data
	}
	out := data
	for _, name := range slices.Sorted(maps.Keys(data)) {
		if k := keysByName[name]; k != nil && k.info().Snippet {
			if len(out) == len(data) {
				out = maps.Clone(data)
			}
			report(snippetsOff(configMapRef, name, name))
			delete(out, name)
		}
	}
	return out
}

// layerWithoutSnippets is l without its snippet keys, each reported,
// unless allowed.
func layerWithoutSnippets(l layer, allowed bool, report func(Problem)) layer {
	if allowed {
		return l
	}
	// Sorted for a stable order of problems, only when there is one: this
	// runs for every Ingress and Service.
	var found []string
	for name := range l {
		if keysByName[name].info().Snippet {
			found = append(found, name)
		}
	}
	slices.Sort(found)
	for _, name := range found {
		st := l[name]
		report(snippetsOff(st.ref, st.field, keysByName[name].info().Name))
		delete(l, name)
	}
	return l
}
