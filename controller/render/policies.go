package render

import (
	"net/netip"
	"regexp"
	"sort"
	"strings"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/parallel"
)

// The path policies run in the http and https frontends, after the route
// lookup set txn.policy to the ID of the route's policy. Each feature's
// rule is written once per distinct value, for all the policies that share
// it, so that a new route whose policy exists is only a map entry.

// policies are the distinct non-zero path policies of the routes, by ID.
type policies struct {
	ids []string // sorted
	by  map[string]*model.PathPolicy
	// redirects are the host redirects, which run before the routing.
	redirects []model.HostRedirect
}

// policyIDs are the IDs of the routes' policies: each a hash, computed
// once for the maps and the rules.
func policyIDs(routes []model.Route) []string {
	ids := make([]string, len(routes))
	parallel.For(len(routes), func(i int) { ids[i] = routes[i].Policy.ID() })
	return ids
}

// distinctPolicies are those of routes, whose IDs are ids.
func distinctPolicies(routes []model.Route, ids []string) policies {
	p := policies{by: map[string]*model.PathPolicy{}}
	for i, id := range ids {
		if id != "" && p.by[id] == nil {
			p.by[id] = &routes[i].Policy
			p.ids = append(p.ids, id)
		}
	}
	sort.Strings(p.ids)
	return p
}

// group is the IDs of the policies that give a feature one value.
type group struct {
	value string
	ids   []string
	first *model.PathPolicy
}

// groups splits the policies by the value of a feature; value returns
// false for a policy without it. Groups come in the order of their first ID.
func (p policies) groups(value func(*model.PathPolicy) (string, bool)) []group {
	var out []group
	index := map[string]int{}
	for _, id := range p.ids {
		v, ok := value(p.by[id])
		if !ok {
			continue
		}
		i, seen := index[v]
		if !seen {
			i = len(out)
			index[v] = i
			out = append(out, group{value: v, first: p.by[id]})
		}
		out[i].ids = append(out[i].ids, id)
	}
	return out
}

// feature is one kind of path rule: the value that groups policies, and
// the rules of a group whose policy ACL is named acl.
type feature struct {
	name  string
	https bool // on the https frontend only
	value func(*model.PathPolicy) (string, bool)
	rules func(c *cfg, acl string, g group)
}

// features in the order haproxy runs them: refusals first, then redirects,
// then what changes the request, then what changes the answer.
var features = []feature{
	clientCertFeature,
	{name: "allow", value: func(p *model.PathPolicy) (string, bool) { return prefixes(p.AllowSources), len(p.AllowSources) > 0 },
		rules: func(c *cfg, acl string, g group) {
			aclLines(c, acl+"_src", "src", strings.Fields(g.value))
			c.line("http-request deny deny_status 403 if", acl, "!"+acl+"_src")
		}},
	{name: "deny", value: func(p *model.PathPolicy) (string, bool) { return prefixes(p.DenySources), len(p.DenySources) > 0 },
		rules: func(c *cfg, acl string, g group) {
			aclLines(c, acl+"_src", "src", strings.Fields(g.value))
			c.line("http-request deny deny_status 403 if", acl, acl+"_src")
		}},
	corsPreflight,
	authFeature,
	bodyLimitFeature,
	redirectToFeature,
	{name: "approot", value: func(p *model.PathPolicy) (string, bool) { return p.AppRoot, p.AppRoot != "" },
		rules: func(c *cfg, acl string, g group) {
			c.line("http-request redirect location", quoteWord(logFormat(g.value)), "code 302 if", acl, "{ path / }")
		}},
	{name: "rewrite", value: func(p *model.PathPolicy) (string, bool) {
		if p.Rewrite == nil {
			return "", false
		}
		return p.Rewrite.Prefix + " " + p.Rewrite.Target, true
	}, rules: func(c *cfg, acl string, g group) {
		r := g.first.Rewrite
		// Prefix/<rest> becomes Target/<rest>: one slash between them
		// whatever the slashes at their ends.
		from := "^" + regexp.QuoteMeta(strings.TrimRight(r.Prefix, "/")) + "/?(.*)$"
		to := logFormat(strings.TrimRight(r.Target, "/")) + `/\1`
		c.line("http-request replace-path", quoteWord(from), quoteWord(to), "if", acl)
	}},
	{name: "hsts", https: true, value: func(p *model.PathPolicy) (string, bool) {
		if p.HSTS == nil {
			return "", false
		}
		return hstsValue(p.HSTS), true
	}, rules: func(c *cfg, acl string, g group) {
		c.line("http-response set-header Strict-Transport-Security", quoteWord(g.value), "if", acl)
	}},
	corsAnswer,
}

// pathRules writes the rules of the policies for the frontend of scheme.
func pathRules(c *cfg, p policies, scheme string) {
	for _, f := range features {
		if f.https && scheme != "https" {
			continue
		}
		for i, g := range p.groups(f.value) {
			acl := "pol_" + f.name + "_" + itoa(i)
			aclLines(c, acl, "var(txn.policy) -m str", g.ids)
			f.rules(c, acl, g)
		}
	}
}

// aclLines declares acl as criterion matching any of values, over several
// lines (which haproxy ORs) so that no line passes haproxy's limits of 64
// words and 2048 characters.
func aclLines(c *cfg, acl, criterion string, values []string) {
	const maxWords, maxLen = 32, 1500
	for len(values) > 0 {
		n, size := 0, 0
		for n < len(values) && n < maxWords && size+len(values[n]) < maxLen {
			size += len(values[n]) + 1
			n++
		}
		c.line(append([]string{"acl", acl, criterion}, values[:n]...)...)
		values = values[n:]
	}
}

func prefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, " ")
}

// hstsValue is the Strict-Transport-Security header value.
func hstsValue(h *model.HSTS) string {
	v := "max-age=" + itoa(h.MaxAge)
	if h.IncludeSubdomains {
		v += "; includeSubDomains"
	}
	if h.Preload {
		v += "; preload"
	}
	return v
}

// logFormat escapes s for a log-format argument, where "%" starts a sample.
func logFormat(s string) string { return strings.ReplaceAll(s, "%", "%%") }
