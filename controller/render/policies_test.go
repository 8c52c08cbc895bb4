package render

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// policyFrontends renders the http and https frontends of routes with the
// given policies, one route each.
func policyFrontends(ps ...model.PathPolicy) []byte {
	var routes []model.Route
	for i, p := range ps {
		routes = append(routes, model.Route{Host: "a.com", Path: "/" + itoa(i), Match: model.MatchPrefix, Backend: "b", Policy: p})
	}
	fs := []model.Frontend{{Kind: model.FrontendHTTP, Port: 80}, {Kind: model.FrontendHTTPS, Port: 443}}
	return frontends(fs, &model.Global{}, distinctPolicies(routes, policyIDs(routes)), files.DefaultLayout(""))
}

func TestPathPolicySnippets(t *testing.T) {
	nets := func(s ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, p := range s {
			out = append(out, netip.MustParsePrefix(p))
		}
		return out
	}
	allow := model.PathPolicy{AllowSources: nets("10.0.0.0/8", "192.0.2.7/32")}
	id := allow.ID()
	for _, tc := range []struct {
		name         string
		policies     []model.PathPolicy
		want, absent []string
	}{
		{"no policy: no rule", []model.PathPolicy{{}}, nil, []string{"acl pol_", "http-response set-header Strict"}},
		{"allowlist", []model.PathPolicy{allow}, []string{
			"acl pol_allow_0 var(txn.policy) -m str " + id,
			"acl pol_allow_0_src src 10.0.0.0/8 192.0.2.7/32",
			"http-request deny deny_status 403 if pol_allow_0 !pol_allow_0_src",
		}, nil},
		{"denylist", []model.PathPolicy{{DenySources: nets("2001:db8::/32")}}, []string{
			"acl pol_deny_0_src src 2001:db8::/32",
			"http-request deny deny_status 403 if pol_deny_0 pol_deny_0_src",
		}, nil},
		{"one rule for the policies that share a value", []model.PathPolicy{allow, {AllowSources: allow.AllowSources, AppRoot: "/app"}}, []string{
			"acl pol_allow_0 var(txn.policy) -m str " + min(allow.ID(), model.PathPolicy{AllowSources: allow.AllowSources, AppRoot: "/app"}.ID()) + " " +
				max(allow.ID(), model.PathPolicy{AllowSources: allow.AllowSources, AppRoot: "/app"}.ID()),
			"http-request redirect location '/app' code 302 if pol_approot_0 { path / }",
		}, []string{"acl pol_allow_1"}},
		{"rewrite", []model.PathPolicy{{Rewrite: &model.Rewrite{Prefix: "/a.b/", Target: "/x%41/"}}}, []string{
			`http-request replace-path '^/a\.b/?(.*)$' '/x%%41/\1' if pol_rewrite_0`,
		}, nil},
		{"rewrite to the root", []model.PathPolicy{{Rewrite: &model.Rewrite{Prefix: "/api", Target: "/"}}}, []string{
			`http-request replace-path '^/api/?(.*)$' '/\1' if pol_rewrite_0`,
		}, nil},
		{"hsts on https", []model.PathPolicy{{HSTS: &model.HSTS{MaxAge: 60, IncludeSubdomains: true, Preload: true}}}, []string{
			"http-response set-header Strict-Transport-Security 'max-age=60; includeSubDomains; preload' if pol_hsts_0",
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkLines(t, policyFrontends(tc.policies...), tc.want, tc.absent)
		})
	}
}

// TestPolicyACLLines: long lists are split over lines that haproxy's 64
// words and 2048 characters per line allow.
func TestPolicyACLLines(t *testing.T) {
	var c cfg
	values := make([]string, 100)
	for i := range values {
		values[i] = "2001:db8:aaaa:bbbb:cccc:dddd:eeee:" + itoa(1000+i) + "/128"
	}
	aclLines(&c, "a", "src", values)
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(c.String()), "\n") {
		if len(l) > 2047 || len(strings.Fields(l)) > 63 {
			t.Errorf("line of %d characters, %d words", len(l), len(strings.Fields(l)))
		}
		n += len(strings.Fields(l)) - 3
	}
	if n != len(values) {
		t.Errorf("%d values written, want %d", n, len(values))
	}
}
