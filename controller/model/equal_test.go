package model

import (
	"net/netip"
	"testing"
)

// TestEqual: nil and empty slices and maps are equal, pointers and
// interfaces compare what they point to, addresses and prefixes by value,
// unexported fields too.
func TestEqual(t *testing.T) {
	type inner struct {
		p  *int
		xs []string
	}
	type outer struct {
		Prefixes []netip.Prefix
		M        map[string]int
		I        any
		in       inner
	}
	one, otherOne, two := 1, 1, 2
	p := func(s string) netip.Prefix { return netip.MustParsePrefix(s) }
	base := func() outer {
		return outer{Prefixes: []netip.Prefix{p("10.0.0.0/8")}, M: map[string]int{"a": 1}, I: &one, in: inner{p: &one, xs: []string{"x"}}}
	}
	for _, c := range []struct {
		name   string
		change func(*outer)
		equal  bool
	}{
		{"same", func(*outer) {}, true},
		{"other pointer, same value", func(o *outer) { o.in.p, o.I = &otherOne, &otherOne }, true},
		{"slice emptied", func(o *outer) { o.in.xs = nil }, false},
		{"pointed value", func(o *outer) { o.in.p = &two }, false},
		{"interface value", func(o *outer) { o.I = &two }, false},
		{"interface type", func(o *outer) { o.I = 1 }, false},
		{"prefix", func(o *outer) { o.Prefixes[0] = p("10.0.0.0/9") }, false},
		{"map value", func(o *outer) { o.M["a"] = 2 }, false},
		{"map key", func(o *outer) { o.M = map[string]int{"b": 1} }, false},
		{"unexported slice", func(o *outer) { o.in.xs = []string{"y"} }, false},
	} {
		a, b := base(), base()
		c.change(&b)
		if got := equal(a, b); got != c.equal {
			t.Errorf("%s: equal %v, want %v", c.name, got, c.equal)
		}
	}
	empty := func(xs []string, m map[string]int) outer { return outer{in: inner{xs: xs}, M: m} }
	if !equal(empty(nil, nil), empty([]string{}, map[string]int{})) {
		t.Error("nil and empty slices and maps differ")
	}
	if !equal(&outer{}, &outer{}) || equal(&outer{}, (*outer)(nil)) {
		t.Error("pointers to structs")
	}
}
