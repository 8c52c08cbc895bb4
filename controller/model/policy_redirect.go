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
func (s *pathSettings) redirectPolicy(p *PathPolicy) {
	if s.redirectTo != "" {
		p.RedirectTo = &RedirectTo{URL: s.redirectTo, Code: s.global.RedirectToCode}
	}
	if s.maxBody > 0 {
		// The time a client has to send a whole request.
		p.BodyLimit = &BodyLimit{Max: s.maxBody, Wait: s.global.TimeoutHTTPRequest}
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
	served := map[string]bool{}
	var order, wildcards []string
	for _, p := range b.pending {
		if h := p.route.Host; h != "" && !served[h] {
			served[h] = true
			order = append(order, h)
			if strings.HasPrefix(h, "*.") {
				wildcards = append(wildcards, h)
			}
		}
	}
	var out, regexes []HostRedirect
	sources := map[string]string{} // source → the host it goes to
	for _, to := range order {
		hp := hosts[to]
		for _, from := range []struct {
			key, value string
			regex      bool
		}{{"redirect-from", hp.RedirectFrom, false}, {"redirect-from-regex", hp.RedirectFromRegex, true}} {
			if from.value == "" {
				continue
			}
			st, ok := b.hosts[to].set[from.key]
			if !ok {
				st = b.hosts[to].class[from.key]
			}
			hr := HostRedirect{From: from.value, Regex: from.regex, To: to}
			msg := ""
			switch old, dup := sources[from.key+" "+from.value]; {
			case strings.HasPrefix(to, "*."):
				msg = "the wildcard host " + to + " cannot be a redirect target; ignored"
			case dup:
				msg = "source already redirected to " + old + " by an older Ingress; ignored"
			case from.regex:
				hr.Served = regexServed(from.value, order, wildcards)
			case served[from.value] || slices.ContainsFunc(wildcards, func(w string) bool { return hostMatches(w, from.value) }):
				msg = "host " + from.value + " is served by routes, never redirected; ignored"
			default:
				for _, h := range order {
					if h != from.value && hostMatches(from.value, h) {
						hr.Served = append(hr.Served, h)
					}
				}
			}
			if msg != "" {
				b.report(Problem{st.ref, st.field, msg, Warning})
				continue
			}
			sources[from.key+" "+from.value] = to
			slices.Sort(hr.Served)
			if from.regex {
				regexes = append(regexes, hr)
			} else {
				out = append(out, hr)
			}
		}
	}
	return append(out, regexes...)
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
