package render

import "github.com/external-haproxy/kit/controller/model"

// upstream writes how haproxy talks to the servers as one default-server
// line, so that the many server lines stay short.
func upstream(c *cfg, u *model.Upstream) {
	var words []string
	switch tls := u.TLS(); {
	case tls && u.H2():
		words = append(words, "ssl", "verify", "none", "alpn", "h2")
	case tls:
		words = append(words, "ssl", "verify", "none")
	case u.H2():
		words = append(words, "proto", "h2")
	}
	switch u.SNI {
	case "":
	case "sni":
		words = append(words, "sni", "ssl_fc_sni")
	case "host":
		words = append(words, "sni", "var(txn.host)")
	default:
		words = append(words, "sni", quoteWord("str("+u.SNI+")"))
	}
	if len(words) > 0 {
		c.line(append([]string{"default-server"}, words...)...)
	}
}
