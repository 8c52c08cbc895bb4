package model

import (
	"slices"
	"strings"
	"testing"
)

func TestParseBinds(t *testing.T) {
	got, ok := parseBinds(":80, :::80,127.0.0.1:8080,[fd00::0001]:8443")
	if want := []Addr{{"", 80}, {"::", 80}, {"127.0.0.1", 8080}, {"fd00::1", 8443}}; !ok || !slices.Equal(got, want) {
		t.Errorf("parsed %v %v, want %v", got, ok, want)
	}
	for _, bad := range []string{"80", ":0", ":65536", ":080", "::1:80", "localhost:80", "[127.0.0.1]:80", "[fe80::1%eth0]:80",
		":80 ssl crt /etc/x.pem", ":80\nbind :81", ":80,:80", "1.2.3.4:80 accept-proxy", ":1,:2,:3,:4,:5,:6,:7,:8,:9"} {
		if a, ok := parseBinds(bad); ok {
			t.Errorf("%q accepted as %v", bad, a)
		}
	}
}

// TestBindFrontends: bind-http's addresses are the http frontend's, its
// first port the one redirects name; one that clashes with another
// frontend drops the key, with an error naming the address.
func TestBindFrontends(t *testing.T) {
	m, problems := Build(&Snapshot{ConfigMap: map[string]string{"bind-http": "127.0.0.1:8080,:::8080"}}, Options{})
	if f := m.Frontends[0]; f.Kind != FrontendHTTP || f.IP != "127.0.0.1" || f.Port != 8080 || !slices.Equal(f.Also, []Addr{{"::", 8080}}) || m.Global.HTTPPort != 8080 {
		t.Errorf("frontend %+v, http port %d; want 127.0.0.1:8080 and [::]:8080", f, m.Global.HTTPPort)
	}
	for _, p := range problems {
		if p.Object == configMapRef {
			t.Errorf("problem: %s", p)
		}
	}
	m, problems = Build(&Snapshot{ConfigMap: map[string]string{"bind-http": ":80,:::1936"}}, Options{})
	if f := m.Frontends[0]; f.Port != 80 || len(f.Also) > 0 {
		t.Errorf("frontend %+v, want bind-http dropped for http-port 80", f)
	}
	if !slices.ContainsFunc(problems, func(p Problem) bool {
		return p.Field == "bind-http" && strings.Contains(p.Message, `port 1936 of "::" is already used by the stats frontend`)
	}) {
		t.Errorf("problems %v, want bind-http's clash with stats", problems)
	}
}
