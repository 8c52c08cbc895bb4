package model

import "strings"

// authKeys configure HTTP basic authentication of a path against the users
// of a Secret. auth-type, which upstream deprecated (auth-secret alone turns
// basic auth on), is not read: an annotation with it is reported unknown.
var authKeys = []configKey{
	onPath(&key[string]{KeyInfo: KeyInfo{Name: "auth-secret", Scope: ScopePath, Accepts: authSecretAccepts, Reload: true,
		Doc: "Secret whose key auth lists the users (user:crypt-hash or user::plain-password lines) that may reach the path; no valid user: the path answers 403"},
		// Any value parses: an invalid one must refuse the path's requests
		// (see authPolicy), not fall back to the default of no auth.
		parse: func(v string) (string, bool) { return v, true }},
		func(p *pathSettings) *string { return &p.auth.secret }),
	onPath(&key[string]{KeyInfo: KeyInfo{Name: "auth-realm", Scope: ScopePath, Default: "localhost", Reload: true,
		Accepts: "1 to 128 printable ASCII characters but \" and \\", Doc: "realm of the basic authentication challenge"},
		parse: func(v string) (string, bool) { return v, validRealm(v) }, global: func(g *Global) *string { return &g.Auth.Realm }},
		func(p *pathSettings) *string { return &p.auth.realm }),
	newKey(KeyInfo{Name: "cross-namespace-secrets-passwd", Scope: ScopeGlobal, Default: "deny", Accepts: "allow or deny", Reload: true,
		Doc: "whether auth-secret may name a Secret of another namespace than the Ingress's"},
		func(v string) (bool, bool) { return v == "allow", v == "allow" || v == "deny" },
		func(g *Global) *bool { return &g.Auth.CrossNamespace }),
}

// authSecretAccepts is what auth-secret accepts, for problems.
const authSecretAccepts = "a Secret name, or namespace/name"

// validSecretRef accepts "name" and "namespace/name".
func validSecretRef(v string) bool {
	ns, name, cross := strings.Cut(v, "/")
	if !cross {
		return validName(v)
	}
	return validName(ns) && validName(name)
}

// validRealm accepts what haproxy puts between the quotes of
// WWW-Authenticate: Basic realm="...", which it does not escape.
func validRealm(v string) bool {
	if v == "" || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
