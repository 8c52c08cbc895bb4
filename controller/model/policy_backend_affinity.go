package model

import (
	"slices"
	"strings"
)

// Cookie is the cookie affinity of a backend; the zero value: none.
type Cookie struct {
	On       bool
	Name     string
	Strategy string // insert, rewrite or prefix
	Keywords []CookieKeyword
	// Dynamic: haproxy derives each server's cookie from the cookie-key and
	// its address, so a cookie keeps pointing at its endpoint when the
	// runtime API moves endpoints between slots. Otherwise the cookie is the
	// slot name and goes with the slot to whatever endpoint fills it next.
	Dynamic  bool
	Preserve bool
	// SameSite (session-cookie-same-site): the browser sends the cookie on
	// cross-site requests too (SameSite=None, which needs Secure).
	SameSite bool
	// Shared (session-cookie-shared): the cookie is valid for every host
	// routed to the backend (the domain option of their common parent, see
	// sharedDomain).
	Shared bool
	// ValueStrategy is server-name, the only one: kept so that the key's
	// value is in the model like every other.
	ValueStrategy string
}

// CookieKeyword is one option of haproxy's cookie line; Arg for those that
// take one (domain, maxidle, maxlife as a Duration's String, attr).
type CookieKeyword struct{ Name, Arg string }

// defaultInsertKeywords are upstream's options of an insert cookie that
// session-cookie-keywords leaves empty: the client never sees the cookie
// of the server, caches do not store answers that set one, and scripts
// cannot read it.
var defaultInsertKeywords = []CookieKeyword{{Name: "indirect"}, {Name: "nocache"}, {Name: "httponly"}}

// effective is the cookie as haproxy applies it: nothing without
// affinity, upstream's default keywords, preserve for
// session-cookie-preserve, and without the options haproxy refuses with
// the strategy, each reported where src (or the global ConfigMap) sets it.
func (c Cookie) effective(src sources, report func(Problem)) Cookie {
	if !c.On {
		return Cookie{}
	}
	if c.Strategy == "insert" && len(c.Keywords) == 0 {
		c.Keywords = defaultInsertKeywords
	}
	for _, kw := range []struct {
		on bool
		kw []CookieKeyword
	}{
		{c.Preserve, []CookieKeyword{{Name: "preserve"}}},
		{c.SameSite, []CookieKeyword{{Name: "attr", Arg: "SameSite=None"}, {Name: "secure"}}},
	} {
		for _, k := range kw.kw {
			if kw.on && !slices.Contains(c.Keywords, k) {
				c.Keywords = append(slices.Clip(c.Keywords), k)
			}
		}
	}
	indirect := slices.Contains(c.Keywords, CookieKeyword{Name: "indirect"})
	c.Keywords = slices.DeleteFunc(slices.Clone(c.Keywords), func(kw CookieKeyword) bool {
		switch {
		case kw.Name == "indirect" && c.Strategy == "rewrite":
			reportOn(src, "session-cookie-keywords", "indirect does not work with session-cookie-strategy rewrite (haproxy refuses it); dropped", report)
		case kw.Name == "preserve" && c.Strategy != "insert" && (!indirect || c.Strategy == "rewrite"):
			name := "session-cookie-keywords"
			if c.Preserve {
				name = "session-cookie-preserve"
			}
			reportOn(src, name, "preserve needs session-cookie-strategy insert, or indirect with prefix (haproxy refuses it otherwise); dropped", report)
		default:
			return false
		}
		return true
	})
	return c
}

// reportOn reports msg where the strongest layer of src sets the key
// name, or on the global ConfigMap if none does.
func reportOn(src sources, name, msg string, report func(Problem)) {
	st, ok := resolve(keysByName[name].info(), src)
	if !ok {
		st = setting{ref: configMapRef, field: name}
	}
	report(Problem{st.ref, st.field, msg, Warning})
}

// sharedDomain is the parent domain of every one of hosts that a cookie
// can name (a wildcard counts as its parent), if there is one of at least
// two labels: a cookie holds one Domain, the last one browsers see.
func sharedDomain(hosts []string) (string, bool) {
	var common []string
	for i, h := range hosts {
		labels := strings.Split(strings.TrimPrefix(h, "*."), ".")
		if i == 0 {
			common = labels
			continue
		}
		n := 0
		for n < len(common) && n < len(labels) && common[len(common)-1-n] == labels[len(labels)-1-n] {
			n++
		}
		common = common[len(common)-n:]
	}
	if len(common) < 2 {
		return "", false
	}
	return strings.Join(common, "."), true
}
