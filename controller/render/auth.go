package render

import "github.com/external-haproxy/kit/controller/model"

// userlists is one userlist section per auth-secret Secret.
func userlists(ls []model.Userlist) []byte {
	var c cfg
	for _, l := range ls {
		c.section("userlist", l.Name)
		for _, u := range l.Users {
			kind := "password"
			if u.Insecure {
				kind = "insecure-password"
			}
			c.line("user", quoteWord(u.Name), kind, quoteWord(u.Password))
		}
	}
	if c.Len() > 0 {
		c.WriteByte('\n') // before the frontends that follow
	}
	return c.bytes()
}

// authFeature challenges the requests without valid credentials of the
// policy's userlist, or refuses them all when it has none. haproxy
// verifies the crypt(3) hash on every request, on the thread serving it:
// bcrypt costs tens to hundreds of milliseconds each.
var authFeature = feature{name: "auth",
	value: func(p *model.PathPolicy) (string, bool) {
		if p.Auth == nil {
			return "", false
		}
		// Userlist names hold no space.
		return p.Auth.Userlist + " " + p.Auth.Realm, true
	},
	rules: func(c *cfg, acl string, g group) {
		a := g.first.Auth
		if a.Userlist == "" {
			c.line("http-request deny deny_status 403 if", acl)
			return
		}
		c.line("http-request auth realm", quoteWord(a.Realm), "if", acl, "!{ http_auth("+a.Userlist+") }")
	}}
