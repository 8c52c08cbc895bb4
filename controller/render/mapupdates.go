package render

import (
	"bytes"

	"github.com/external-haproxy/kit/controller/files"
)

// MapChanges lists the routing maps whose content differs between two
// rendered sets, for replacement at run time without a reload. Exact and
// prefix maps are lookups by key (a tree: entry order does not matter), so a
// new version of the whole file can be swapped in; regex maps are first-match
// lists in file order, so a change there returns ok=false and needs a reload.
func MapChanges(old, cur files.Set, l files.Layout) (changed []files.File, ok bool) {
	byPath := func(s files.Set) map[string]files.File {
		m := make(map[string]files.File, len(s))
		for _, f := range s {
			m[f.Path] = f
		}
		return m
	}
	o, n := byPath(old), byPath(cur)
	for _, scheme := range []string{"http", "https"} {
		p := mapPaths(l, scheme)
		for _, path := range []string{p.regex, p.regexAny} {
			if !bytes.Equal(o[path].Data, n[path].Data) {
				return nil, false
			}
		}
		for _, path := range []string{p.exact, p.prefix} {
			if !bytes.Equal(o[path].Data, n[path].Data) {
				changed = append(changed, n[path])
			}
		}
	}
	return changed, true
}
