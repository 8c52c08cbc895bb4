package render

import "github.com/external-haproxy/kit/controller/model"

// cookie writes the affinity cookie of a backend: dynamic, each server's
// value is a hash of the key and its address, computed by haproxy, so the
// server lines carry nothing; otherwise serverCookie gives each slot its
// name as value.
func cookie(c *cfg, g *model.Global, ck *model.Cookie) {
	if !ck.On {
		return
	}
	words := []string{"cookie", quoteWord(ck.Name), ck.Strategy}
	for _, kw := range ck.Keywords {
		words = append(words, kw.Name)
		if kw.Arg != "" {
			words = append(words, quoteWord(kw.Arg))
		}
	}
	if ck.Dynamic {
		words = append(words, "dynamic")
		c.line("dynamic-cookie-key", quoteWord(g.CookieKey))
	}
	c.line(words...)
}

// serverCookie is the " cookie <slot>" of a server line when the backend
// has a non-dynamic affinity cookie.
func serverCookie(c *cfg, ck *model.Cookie, s *model.Server) {
	if ck.On && !ck.Dynamic {
		c.WriteString(" cookie ")
		c.WriteString(s.Name)
	}
}
