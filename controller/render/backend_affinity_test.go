package render

import (
	"testing"

	"github.com/external-haproxy/kit/controller/model"
)

func TestCookieSnippets(t *testing.T) {
	svc := model.Ref{Namespace: "ns", Name: "svc"}
	servers := []model.Server{{Name: "srv001", Addr: "10.0.0.1", Port: 80, Enabled: true}, {Name: "srv002", Addr: "127.0.0.1", Port: 1}}
	g := &model.Global{CookieKey: "it's"}
	for _, tc := range []struct {
		name         string
		ck           model.Cookie
		want, absent []string
	}{
		{"none", model.Cookie{}, []string{"server srv001 10.0.0.1:80"}, []string{"cookie", "dynamic-cookie-key"}},
		{"dynamic: the key, nothing on the servers",
			model.Cookie{On: true, Name: "INGRESSCOOKIE", Strategy: "insert", Keywords: []model.CookieKeyword{{Name: "indirect"}, {Name: "maxidle", Arg: "30m"}, {Name: "attr", Arg: "SameSite=None"}}, Dynamic: true},
			[]string{`dynamic-cookie-key 'it'\''s'`, "cookie 'INGRESSCOOKIE' insert indirect maxidle '30m' attr 'SameSite=None' dynamic", "server srv001 10.0.0.1:80"},
			[]string{"server srv001 10.0.0.1:80 cookie"}},
		{"by slot name",
			model.Cookie{On: true, Name: "S", Strategy: "prefix"},
			[]string{"cookie 'S' prefix", "server srv001 10.0.0.1:80 cookie srv001", "server srv002 127.0.0.1:1 cookie srv002 disabled"},
			[]string{"dynamic-cookie-key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := model.Backend{Name: "ns_svc_80", Service: svc, Policy: model.BackendPolicy{Cookie: tc.ck}, Servers: servers}
			checkLines(t, backends(g, []model.Backend{be}), tc.want, tc.absent)
		})
	}
}
