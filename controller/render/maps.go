package render

import (
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// mapFiles are the routing maps of one frontend. Keys are "<host><path>"
// where host is exact, "*.suffix" or empty (keys then start with "/"), so
// one exact and one prefix map serve all three host levels.
type mapFiles struct {
	exact    string // map_str: Exact paths, and Prefix paths without slash
	prefix   string // map_beg, longest match: Prefix "<path>/" and begin paths
	regex    string // map_reg on "<host><path>", host anchored
	regexAny string // map_reg on the path alone, for rules without host
	// aliasRegex: map_reg on the host, to the host whose routes answer
	// (server-alias-regex); one for both frontends.
	aliasRegex string
}

func mapPaths(l files.Layout, scheme string) mapFiles {
	dir := l.Maps()
	return mapFiles{
		exact:    filepath.Join(dir, scheme+"-exact.map"),
		prefix:   filepath.Join(dir, scheme+"-prefix.map"),
		regex:    filepath.Join(dir, scheme+"-regex.map"),
		regexAny: filepath.Join(dir, scheme+"-regex-any.map"),

		aliasRegex: filepath.Join(dir, aliasRegexFile),
	}
}

// entry is one map line. rank settles keys shared by different match
// types: a Kubernetes tie goes to Exact over Prefix, and Prefix over the
// upstream begin type.
type entry struct {
	key, value string
	rank       int
	order      int       // regex maps are first-match: longer paths first
	source     model.Ref // the Ingress of the route, to blame a line haproxy rejects
}

// redirectMark is the third field of an http map value whose route
// redirects to https.
const redirectMark = "redirect"

// mapValue is what a route's map entry holds: "<backend>", or
// "<backend>@<policy ID>", with "@redirect" added on http when the route
// redirects to https. Backend names and IDs never hold "@" or spaces.
func mapValue(r *model.Route, id string, redirect bool) string {
	v := r.Backend
	if id != "" || redirect {
		v += "@" + id
	}
	if redirect {
		v += "@" + redirectMark
	}
	return v
}

// routeMaps writes the maps of the http frontend and of the https frontend.
func routeMaps(m *model.Model, l files.Layout, ids []string) files.Set {
	var set files.Set
	for _, mf := range mapEntries(m, l, ids) {
		set = append(set, files.File{Path: mf.path, Data: mapData(mf.entries)})
	}
	return set
}

// MapLineSources tells, for each map file, which Ingress wrote each of its
// lines (index 0 is line 1), so that a map line haproxy rejects can be
// traced back to its object.
func MapLineSources(m *model.Model, l files.Layout) map[string][]model.Ref {
	out := map[string][]model.Ref{}
	for _, mf := range mapEntries(m, l, policyIDs(m.Routes)) {
		es := sortedEntries(mf.entries)
		refs := make([]model.Ref, len(es))
		for i, e := range es {
			refs[i] = e.source
		}
		out[mf.path] = refs
	}
	return out
}

type mapFile struct {
	path    string
	entries []entry
}

// mapEntries lists the entries of every map file, unsorted; ids are the
// routes' policy IDs.
func mapEntries(m *model.Model, l files.Layout, ids []string) []mapFile {
	var out []mapFile
	for _, f := range m.Frontends {
		if f.Kind != model.FrontendHTTP && f.Kind != model.FrontendHTTPS {
			continue
		}
		var exact, prefix, regex, regexAny []entry
		for i := range m.Routes {
			r := &m.Routes[i]
			value := mapValue(r, ids[i], f.Kind == model.FrontendHTTP && r.RedirectHTTPS)
			switch r.Match {
			case model.MatchExact:
				exact = append(exact, entry{r.Host + r.Path, value, 0, 0, r.Source})
			case model.MatchPrefix:
				// Whole path elements: "/foo" itself exactly, and "/foo/…"
				// by prefix, so "/foobar" does not match.
				if r.Path == "/" {
					prefix = append(prefix, entry{r.Host + "/", value, 0, 0, r.Source})
				} else {
					exact = append(exact, entry{r.Host + r.Path, value, 1, 0, r.Source})
					prefix = append(prefix, entry{r.Host + r.Path + "/", value, 0, 0, r.Source})
				}
			case model.MatchBegin:
				prefix = append(prefix, entry{r.Host + r.Path, value, 1, 0, r.Source})
			case model.MatchRegex:
				if r.Host == "" {
					regexAny = append(regexAny, entry{r.Path, value, 0, -len(r.Path), r.Source})
				} else {
					regex = append(regex, entry{hostRegex(r.Host, r.Path), value, 0, -len(r.Path), r.Source})
				}
			}
		}
		paths := mapPaths(l, string(f.Kind))
		out = append(out, mapFile{paths.exact, exact}, mapFile{paths.prefix, prefix},
			mapFile{paths.regex, regex}, mapFile{paths.regexAny, regexAny})
	}
	return append(out, aliasRegexMap(m, l))
}

// hostRegex anchors a path regex behind a literal host, for subjects
// "<host><path>". The lookahead ends the host where the path starts, so
// "a.com" never matches "a.com.evil/..." or "a.comx/..."; an anchored path
// regex (the model allows "^" only first, covering the whole pattern)
// continues right there, an unanchored one may start anywhere in the path.
// The path regex is grouped so that its "|" binds inside it.
func hostRegex(host, path string) string {
	h := "^" + regexp.QuoteMeta(host) + "(?=/)"
	if strings.HasPrefix(path, "^") {
		return h + "(?:" + path[1:] + ")"
	}
	return h + ".*?(?:" + path + ")"
}

// sortedEntries sorts entries (by order, key, rank) and keeps the
// best-ranked entry of each key: the lines of the map file, in order.
func sortedEntries(es []entry) []entry {
	sort.Slice(es, func(i, j int) bool {
		a, b := &es[i], &es[j]
		if a.order != b.order {
			return a.order < b.order
		}
		if a.key != b.key {
			return a.key < b.key
		}
		return a.rank < b.rank
	})
	out := es[:0]
	for i, e := range es {
		if i == 0 || es[i-1].key != e.key {
			out = append(out, e)
		}
	}
	return out
}

func mapData(es []entry) []byte {
	es = sortedEntries(es)
	n := 0
	for _, e := range es {
		n += len(e.key) + len(e.value) + 2
	}
	var b strings.Builder
	b.Grow(n)
	for _, e := range es {
		b.WriteString(e.key)
		b.WriteByte(' ')
		b.WriteString(e.value)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}
