package model

// hostKeys set what applies to every path of a host; the oldest Ingress
// that sets one for a host wins.
var hostKeys = []configKey{
	onHost(&key[string]{KeyInfo: KeyInfo{Name: "app-root", Scope: ScopeHost, Accepts: "an absolute path", Reload: true,
		Doc: "redirect requests for / of the host to this path (302)"},
		parse: func(v string) (string, bool) { return v, v == "" || validPath(v) && v != "/" }},
		func(p *HostPolicy) *string { return &p.AppRoot }),
}
