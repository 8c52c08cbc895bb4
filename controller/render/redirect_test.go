package render

import (
	"testing"

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
