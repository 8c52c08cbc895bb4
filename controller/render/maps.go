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
}

func mapPaths(l files.Layout, scheme string) mapFiles {
	dir := l.Maps()
	return mapFiles{
		exact:    filepath.Join(dir, scheme+"-exact.map"),
		prefix:   filepath.Join(dir, scheme+"-prefix.map"),
		regex:    filepath.Join(dir, scheme+"-regex.map"),
		regexAny: filepath.Join(dir, scheme+"-regex-any.map"),
	}
}

// entry is one map line. rank settles keys shared by different match
// types: a Kubernetes tie goes to Exact over Prefix, and Prefix over the
// upstream begin type.
type entry struct {
	key, value string
	rank       int
	order      int // regex maps are first-match: longer paths first
}

// routeMaps writes the maps of the http frontend (routes with
// RedirectHTTPS point to the redirect backend) and of the https frontend.
func routeMaps(m *model.Model, l files.Layout) files.Set {
	var set files.Set
	for _, f := range m.Frontends {
		if f.Kind != model.FrontendHTTP && f.Kind != model.FrontendHTTPS {
			continue
		}
		var exact, prefix, regex, regexAny []entry
		for i := range m.Routes {
			r := &m.Routes[i]
			value := r.Backend
			if f.Kind == model.FrontendHTTP && r.RedirectHTTPS {
				value = model.RedirectBackendName
			}
			switch r.Match {
			case model.MatchExact:
				exact = append(exact, entry{r.Host + r.Path, value, 0, 0})
			case model.MatchPrefix:
				// Whole path elements: "/foo" itself exactly, and "/foo/…"
				// by prefix, so "/foobar" does not match.
				if r.Path == "/" {
					prefix = append(prefix, entry{r.Host + "/", value, 0, 0})
				} else {
					exact = append(exact, entry{r.Host + r.Path, value, 1, 0})
					prefix = append(prefix, entry{r.Host + r.Path + "/", value, 0, 0})
				}
			case model.MatchBegin:
				prefix = append(prefix, entry{r.Host + r.Path, value, 1, 0})
			case model.MatchRegex:
				if r.Host == "" {
					regexAny = append(regexAny, entry{r.Path, value, 0, -len(r.Path)})
				} else {
					regex = append(regex, entry{hostRegex(r.Host, r.Path), value, 0, -len(r.Path)})
				}
			}
		}
		paths := mapPaths(l, string(f.Kind))
		set = append(set,
			files.File{Path: paths.exact, Data: mapData(exact)},
			files.File{Path: paths.prefix, Data: mapData(prefix)},
			files.File{Path: paths.regex, Data: mapData(regex)},
			files.File{Path: paths.regexAny, Data: mapData(regexAny)},
		)
	}
	return set
}

// hostRegex anchors a path regex behind a literal host. An anchored path
// regex continues right after the host; an unanchored one may start at any
// "/" of the path, never inside the host.
func hostRegex(host, path string) string {
	h := "^" + regexp.QuoteMeta(host)
	if strings.HasPrefix(path, "^") {
		return h + "(" + path[1:] + ")"
	}
	return h + "(/.*)?(" + path + ")"
}

// mapData sorts entries (by order, key, rank) and keeps the best-ranked
// entry of each key.
func mapData(es []entry) []byte {
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
	n := 0
	for _, e := range es {
		n += len(e.key) + len(e.value) + 2
	}
	var b strings.Builder
	b.Grow(n)
	for i, e := range es {
		if i > 0 && es[i-1].key == e.key {
			continue
		}
		b.WriteString(e.key)
		b.WriteByte(' ')
		b.WriteString(e.value)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}
