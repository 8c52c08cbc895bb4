package model

import (
	"regexp"
	"slices"
	"strings"
)

// RedirectTo answers the requests of a route with a redirect to URL.
type RedirectTo struct {
	URL  string
	Code int
}

// BodyLimit refuses (413) request bodies longer than Max bytes. A body
// without Content-Length (chunked, or HTTP/2 without it) is first awaited
// for up to Wait, as much of it as haproxy's buffer holds.
type BodyLimit struct {
	Max  int64
	Wait Duration
}

// redirectPolicy adds the effect of the redirect keys to p.
func (s *pathSettings) redirectPolicy(g *Global, p *PathPolicy) {
	if s.redirectTo != "" {
		p.RedirectTo = &RedirectTo{URL: s.redirectTo, Code: g.RedirectToCode}
	}
	if s.maxBody > 0 {
		// The time a client has to send a whole request.
		p.BodyLimit = &BodyLimit{Max: s.maxBody, Wait: g.TimeoutHTTPRequest}
	}
}

// HostRedirect sends the requests for From to To, keeping the scheme, path
// and query (redirect-from). From is a host, "*.suffix", or with Regex an
// unanchored regular expression on the lower-case host. Served are the
// route hosts among those From covers (the wildcards ones as "*.suffix"):
// they are served, never redirected.
type HostRedirect struct {
	From   string
	Regex  bool
	To     string
	Served []string `json:",omitempty"`
}

// hostRedirects are the redirect-from and redirect-from-regex of the
// hosts, the oldest Ingress's first (the one a shared source goes to), and
// the regexes after the hosts, as haproxy tries them.
func (b *builder) hostRedirects(hosts map[string]HostPolicy) []HostRedirect {
	rh := b.routeHosts()
	var out, regexes []HostRedirect
	sources := map[string]string{} // key and source → the host it goes to
	for _, to := range rh.order {
		hp := hosts[to]
		for _, from := range []struct {
			key, value string
			regex      bool
		}{{"redirect-from", hp.RedirectFrom, false}, {"redirect-from-regex", hp.RedirectFromRegex, true}} {
			if from.value == "" {
				continue
			}
			hr := HostRedirect{From: from.value, Regex: from.regex, To: to}
			if msg := rh.check(&hr, sources[from.key+" "+from.value]); msg != "" {
				st, ok := b.hosts[to].set[from.key]
				if !ok {
					st = b.hosts[to].class[from.key]
				}
				b.report(Problem{st.ref, st.field, msg + "; ignored", Warning})
				continue
			}
			sources[from.key+" "+from.value] = to
			if from.regex {
				regexes = append(regexes, hr)
			} else {
				out = append(out, hr)
			}
		}
	}
	return append(out, regexes...)
}

// routeHosts are the hosts of the routes, in the order of their oldest
// Ingress.
type routeHosts struct {
	order, wildcards []string
	served           map[string]bool
}

func (b *builder) routeHosts() routeHosts {
	rh := routeHosts{served: map[string]bool{}}
	for _, p := range b.pending {
		if h := p.route.Host; h != "" && !rh.served[h] {
			rh.served[h] = true
			rh.order = append(rh.order, h)
			if strings.HasPrefix(h, "*.") {
				rh.wildcards = append(rh.wildcards, h)
			}
		}
	}
	return rh
}

// check fills the Served hosts of hr, or says why it cannot redirect;
// taken is the host an older claim already redirects its source to.
func (rh routeHosts) check(hr *HostRedirect, taken string) string {
	switch {
	case strings.HasPrefix(hr.To, "*."):
		return "the wildcard host " + hr.To + " cannot be a redirect target"
	case taken != "":
		return "source already redirected to " + taken + " (by an older Ingress, or another host of this one)"
	case hr.Regex:
		hr.Served = regexServed(hr.From, rh.order, rh.wildcards)
	case rh.served[hr.From] || slices.ContainsFunc(rh.wildcards, func(w string) bool { return hostMatches(w, hr.From) }):
		return "host " + hr.From + " is served by routes, never redirected"
	default:
		for _, h := range rh.order {
			if h != hr.From && hostMatches(hr.From, h) {
				hr.Served = append(hr.Served, h)
			}
		}
	}
	slices.Sort(hr.Served)
	return ""
}

// regexServed are the route hosts that a source regex matches, and every
// wildcard route host: a request for a host one of them covers is served.
func regexServed(re string, hosts, wildcards []string) []string {
	rx := regexp.MustCompile(re) // checkRegexPath accepted it
	out := slices.Clone(wildcards)
	for _, h := range hosts {
		if !strings.HasPrefix(h, "*.") && rx.MatchString(h) {
			out = append(out, h)
		}
	}
	return out
}
