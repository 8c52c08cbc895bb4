package render

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

func TestRedirectSnippets(t *testing.T) {
	for _, tc := range []struct {
		name         string
		policies     []model.PathPolicy
		want, absent []string
	}{
		{"redirect-to, % escaped and quote closed", []model.PathPolicy{{RedirectTo: &model.RedirectTo{URL: "https://b.com/x%20y?a='1'", Code: 308}}}, []string{
			`http-request redirect location 'https://b.com/x%%20y?a='\''1'\''' code 308 if pol_redirto_0`,
		}, nil},
		{"body limit", []model.PathPolicy{{BodyLimit: &model.BodyLimit{Max: 1024, Wait: 5000}}}, []string{
			"http-request wait-for-body time 5s at-least 1025 if pol_body_0 !{ req.hdr(content-length) -m found }",
			"http-request deny deny_status 413 if pol_body_0 { req.body_size gt 1024 }",
		}, nil},
		{"large body limit: the wait is bounded", []model.PathPolicy{{BodyLimit: &model.BodyLimit{Max: 10 << 30, Wait: 60000}}}, []string{
			"http-request wait-for-body time 1m at-least 1048576 if pol_body_0 !{ req.hdr(content-length) -m found }",
			"http-request deny deny_status 413 if pol_body_0 { req.body_size gt 10737418240 }",
		}, nil},
		{"none", []model.PathPolicy{{AppRoot: "/a"}}, nil, []string{"http-request wait-for-body", "acl pol_body", "acl pol_redirto"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkLines(t, policyFrontends(tc.policies...), tc.want, tc.absent)
		})
	}
}

func TestHostRedirectSnippets(t *testing.T) {
	m := &model.Model{
		Global:    model.Global{HTTPPort: 80, HTTPSPort: 8443, RedirectFromCode: 308},
		Frontends: []model.Frontend{{Kind: model.FrontendHTTP, Port: 80}, {Kind: model.FrontendHTTPS, Port: 8443}},
		HostRedirects: []model.HostRedirect{
			{From: "*.a.test", To: "a.test", Served: []string{"x.a.test"}},
			{From: `^b[0-9]\.test$`, Regex: true, To: "b.test", Served: []string{"*.c.test", "b1.test"}},
			{From: "old.test", To: "new.test"},
		},
	}
	l := files.DefaultLayout("")
	set := Render(m, l)
	get := func(name string) []byte {
		for _, f := range set {
			if filepath.Base(f.Path) == name {
				return f.Data
			}
		}
		t.Fatalf("no %s", name)
		return nil
	}
	if got, want := string(get("redirect-from.map")), "*.a.test a.test\n*.c.test _served\nb1.test _served\nold.test new.test\nx.a.test _served\n"; got != want {
		t.Errorf("redirect-from.map:\n%s\nwant\n%s", got, want)
	}
	if got, want := string(get("redirect-from-regex.map")), "^b[0-9]\\.test$ b.test\n"; got != want {
		t.Errorf("redirect-from-regex.map:\n%s\nwant\n%s", got, want)
	}
	checkLines(t, get(FrontendsFile), []string{
		`http-request set-var(txn.redirect_from) var(txn.host),map_str('"/etc/haproxy/maps/redirect-from.map"')`,
		`http-request set-var(txn.redirect_from) var(txn.wildcard),map_str('"/etc/haproxy/maps/redirect-from.map"') if !{ var(txn.redirect_from) -m found }`,
		`http-request set-var(txn.redirect_from) var(txn.host),map_reg('"/etc/haproxy/maps/redirect-from-regex.map"') if !{ var(txn.redirect_from) -m found }`,
		"http-request redirect prefix http://%[var(txn.redirect_from)] code 308 if { var(txn.redirect_from) -m found } !{ var(txn.redirect_from) -m str _served }",
		"http-request redirect prefix https://%[var(txn.redirect_from)]:8443 code 308 if { var(txn.redirect_from) -m found } !{ var(txn.redirect_from) -m str _served }",
	}, nil)

	m.HostRedirects = m.HostRedirects[:1]
	set = Render(m, l)
	checkLines(t, get(FrontendsFile), nil, []string{"http-request set-var(txn.redirect_from) var(txn.host),map_reg"})
	m.HostRedirects = nil
	set = Render(m, l)
	checkLines(t, get(FrontendsFile), nil, []string{"http-request set-var(txn.redirect_from)", "http-request redirect prefix"})
	for _, f := range set {
		if strings.Contains(f.Path, "redirect-from") {
			t.Errorf("%s written without host redirects", f.Path)
		}
	}
}
