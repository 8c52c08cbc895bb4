package render

import (
	"cmp"
	"path/filepath"
	"regexp"
	"slices"
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
	order      int        // regex maps are first-match: longer paths first
	source     *model.Ref // the Ingress of the route, to blame a line haproxy rejects; nil: none
	// route is 1 + the index of the route the line is of; 0: none.
	route int
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
			if e.source != nil {
				refs[i] = *e.source
			}
		}
		out[mf.path] = refs
	}
	return out
}

type mapFile struct {
	path    string
	entries []entry
	kind    model.FrontendKind // of the routes' maps
}

// mapEntries lists the entries of every map file, unsorted; ids are the
// routes' policy IDs.
func mapEntries(m *model.Model, l files.Layout, ids []string) []mapFile {
	// The keys and the plain values are the same in both frontends: made
	// once, for 20k routes on large clusters.
	type keys struct{ exact, prefix, value string }
	var k []keys
	nExact, nPrefix := 0, 0
	var out []mapFile
	for _, f := range m.Frontends {
		if f.Kind != model.FrontendHTTP && f.Kind != model.FrontendHTTPS {
			continue
		}
		if k == nil {
			k = make([]keys, len(m.Routes))
			for i := range m.Routes {
				r := &m.Routes[i]
				k[i].value = mapValue(r, ids[i], false)
				switch r.Match {
				case model.MatchExact:
					k[i].exact = r.Host + r.Path
					nExact++
				case model.MatchPrefix:
					if r.Path == "/" {
						k[i].prefix = r.Host + "/"
					} else {
						k[i].exact, k[i].prefix = r.Host+r.Path, r.Host+r.Path+"/"
						nExact++
					}
					nPrefix++
				case model.MatchBegin:
					k[i].prefix = r.Host + r.Path
					nPrefix++
				}
			}
		}
		exact, prefix := make([]entry, 0, nExact), make([]entry, 0, nPrefix)
		var regex, regexAny []entry
		for i := range m.Routes {
			r := &m.Routes[i]
			value := k[i].value
			if f.Kind == model.FrontendHTTP && r.RedirectHTTPS {
				value = mapValue(r, ids[i], true)
			}
			src := &r.Source
			switch r.Match {
			case model.MatchExact:
				exact = append(exact, entry{k[i].exact, value, 0, 0, src, i + 1})
			case model.MatchPrefix:
				// Whole path elements: "/foo" itself exactly, and "/foo/…"
				// by prefix, so "/foobar" does not match.
				if k[i].exact != "" {
					exact = append(exact, entry{k[i].exact, value, 1, 0, src, i + 1})
				}
				prefix = append(prefix, entry{k[i].prefix, value, 0, 0, src, i + 1})
			case model.MatchBegin:
				prefix = append(prefix, entry{k[i].prefix, value, 1, 0, src, i + 1})
			case model.MatchRegex:
				if r.Host == "" {
					regexAny = append(regexAny, entry{r.Path, value, 0, -len(r.Path), src, i + 1})
				} else {
					regex = append(regex, entry{hostRegex(r.Host, r.Path), value, 0, -len(r.Path), src, i + 1})
				}
			}
		}
		paths := mapPaths(l, string(f.Kind))
		out = append(out, mapFile{paths.exact, exact, f.Kind}, mapFile{paths.prefix, prefix, f.Kind},
			mapFile{paths.regex, regex, f.Kind}, mapFile{paths.regexAny, regexAny, f.Kind})
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
	slices.SortFunc(es, func(a, b entry) int {
		if a.order != b.order {
			return cmp.Compare(a.order, b.order)
		}
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.rank, b.rank)
	})
	out := es[:0]
	for i, e := range es {
		if i == 0 || es[i-1].key != e.key {
			out = append(out, e)
		}
	}
	return out
}

func mapData(es []entry) []byte { return mapLines(sortedEntries(es)) }

// mapLines are the lines of sorted entries.
func mapLines(es []entry) []byte {
	n := 0
	for _, e := range es {
		n += len(e.key) + len(e.value) + 2
	}
	b := make([]byte, 0, n)
	for _, e := range es {
		b = append(b, e.key...)
		b = append(b, ' ')
		b = append(b, e.value...)
		b = append(b, '\n')
	}
	return b
}
