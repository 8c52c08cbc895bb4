package render

import (
	"testing"

	"github.com/external-haproxy/kit/controller/files"
)

func TestMapChanges(t *testing.T) {
	l := files.DefaultLayout("/p")
	http := mapPaths(l, "http")
	set := func(exact, prefix, regex string) files.Set {
		return files.Set{{Path: http.exact, Data: []byte(exact)}, {Path: http.prefix, Data: []byte(prefix)}, {Path: http.regex, Data: []byte(regex)}}
	}
	old := set("a.com/x be_a\nb.com/y be_b\n", "a.com/ be_a\n", "^c.com(/.*)?(/z) be_c\n")

	changed, ok := MapChanges(old, set("a.com/x be_b\n", "a.com/ be_a\n", "^c.com(/.*)?(/z) be_c\n"), l)
	if !ok || len(changed) != 1 || changed[0].Path != http.exact || string(changed[0].Data) != "a.com/x be_b\n" {
		t.Errorf("got %v %+v, want the exact map only", ok, changed)
	}
	if changed, ok := MapChanges(old, old, l); !ok || len(changed) != 0 {
		t.Errorf("unchanged maps gave %v %+v", ok, changed)
	}
	if _, ok := MapChanges(old, set("a.com/x be_a\nb.com/y be_b\n", "a.com/ be_a\n", "^d.com(/.*)?(/z) be_c\n"), l); ok {
		t.Error("a regex map change must need a reload: its entries are tried in order")
	}
}
