package model_test

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/model"
)

const bcryptHash = "$2y$05$abcdefghijklmnopqrstuuIZ6Uj3rq0hDUMmFDQXMu6uCwhtQ1Nnu"

func authSecret(ns, name, auth string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"auth": []byte(auth)}}
}

// buildAuth builds one Ingress of namespace ns with the annotations.
func buildAuth(t *testing.T, ann, cm map[string]string, secrets ...*corev1.Secret) (*model.Model, []model.Problem) {
	t.Helper()
	ing := ingress("a", "a.test", "/", "web")
	ing.Annotations = map[string]string{}
	for k, v := range ann {
		ing.Annotations["haproxy-ingress.github.io/"+k] = v
	}
	m, problems := model.Build(&model.Snapshot{Ingresses: []*networkingv1.Ingress{ing}, Secrets: secrets, ConfigMap: cm}, model.Options{})
	if len(m.Routes) != 1 {
		t.Fatalf("routes %+v, problems %v", m.Routes, problems)
	}
	return m, problems
}

// problemWith is the problem whose message holds text; nil: none.
func problemWith(problems []model.Problem, text string) *model.Problem {
	for i := range problems {
		if strings.Contains(problems[i].Message, text) {
			return &problems[i]
		}
	}
	return nil
}

func TestAuthSecret(t *testing.T) {
	users := authSecret("ns", "users", "alice:"+bcryptHash+"\r\n\ncarol::plain pass\nmallory:$apr1$salt$hashhashhash\nalice::again\nnocolon\n")
	m, problems := buildAuth(t, map[string]string{"auth-secret": "users"}, nil, users)
	if got, want := m.Routes[0].Policy.Auth, (&model.Auth{Userlist: "ns_users", Realm: "localhost"}); !reflect.DeepEqual(got, want) {
		t.Errorf("auth %+v, want %+v", got, want)
	}
	want := []model.Userlist{{Name: "ns_users", Source: model.Ref{Kind: "Secret", Namespace: "ns", Name: "users"}, Users: []model.User{
		{Name: "alice", Password: bcryptHash}, {Name: "carol", Password: "plain pass", Insecure: true}}}}
	if !reflect.DeepEqual(m.Userlists, want) {
		t.Errorf("userlists %+v, want %+v", m.Userlists, want)
	}
	for _, line := range []string{"line 4: apr1", "line 5: user \"alice\" listed twice", "line 6: want user:hash"} {
		p := problemWith(problems, line)
		if p == nil || p.Severity != model.Warning || p.Field != "auth-secret" || p.Object.Name != "a" {
			t.Errorf("no warning on the Ingress with %q: %v", line, problems)
		}
	}
	for _, p := range problems {
		if strings.Contains(p.Message, "hashhash") || strings.Contains(p.Message, "again") {
			t.Errorf("problem shows a password: %v", p)
		}
	}
}

// TestAuthFailsClosed: whatever keeps the users from being read refuses
// the path's requests (an Auth without Userlist), with an error naming why.
func TestAuthFailsClosed(t *testing.T) {
	for _, c := range []struct {
		name    string
		secret  string
		cm      map[string]string
		secrets []*corev1.Secret
		problem string
	}{
		{"missing Secret", "users", nil, nil, "secret ns/users: not found; requests refused"},
		{"no auth key", "users", nil, []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "users"}}}, "no key auth"},
		{"no valid user", "users", nil, []*corev1.Secret{authSecret("ns", "users", "bob:plain\nbob:$1$x\n")}, "no valid user; requests refused"},
		{"invalid name", "a/b/c", nil, nil, `invalid value "a/b/c", want a Secret name, or namespace/name; requests refused`},
		{"file is not read", "file:///etc/passwd", nil, nil, `invalid value "file:///etc/passwd"`},
		{"cross namespace denied by default", "other/users", nil, []*corev1.Secret{authSecret("other", "users", "alice:"+bcryptHash)},
			"cross-namespace-secrets-passwd is deny"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, problems := buildAuth(t, map[string]string{"auth-secret": c.secret}, c.cm, c.secrets...)
			if a := m.Routes[0].Policy.Auth; a == nil || a.Userlist != "" {
				t.Errorf("auth %+v, want requests refused", a)
			}
			if p := problemWith(problems, c.problem); p == nil || p.Severity != model.Error || p.Object.Name != "a" {
				t.Errorf("no error %q on the Ingress: %v", c.problem, problems)
			}
			if len(m.Userlists) != 0 {
				t.Errorf("userlists %+v", m.Userlists)
			}
		})
	}
}

func TestAuthCrossNamespaceAllowed(t *testing.T) {
	m, problems := buildAuth(t, map[string]string{"auth-secret": "other/users"}, map[string]string{"cross-namespace-secrets-passwd": "allow"},
		authSecret("other", "users", "alice:"+bcryptHash))
	if a := m.Routes[0].Policy.Auth; a == nil || a.Userlist != "other_users" || len(m.Userlists) != 1 {
		t.Errorf("auth %+v, userlists %+v, problems %v", a, m.Userlists, problems)
	}
}

// TestAuthRealm: an invalid realm is an error naming it, the default used
// and the path still authenticated.
func TestAuthRealm(t *testing.T) {
	secret := authSecret("ns", "users", "alice:"+bcryptHash)
	m, _ := buildAuth(t, map[string]string{"auth-secret": "users"}, map[string]string{"auth-realm": "Corp"}, secret)
	if a := m.Routes[0].Policy.Auth; a == nil || a.Realm != "Corp" {
		t.Errorf("ConfigMap realm: %+v", a)
	}
	ing := ingress("a", "a.test", "/", "web")
	ing.Annotations = map[string]string{"haproxy-ingress.github.io/auth-secret": "users", "haproxy-ingress.github.io/auth-realm": `say "hi"`}
	m, problems := model.Build(&model.Snapshot{Ingresses: []*networkingv1.Ingress{ing}, Secrets: []*corev1.Secret{secret}}, model.Options{})
	if a := m.Routes[0].Policy.Auth; a == nil || a.Realm != "localhost" || a.Userlist != "ns_users" {
		t.Errorf("invalid realm: %+v", a)
	}
	p := problemWith(problems, `invalid value "say \"hi\""`)
	if p == nil || p.Field != "annotation haproxy-ingress.github.io/auth-realm" {
		t.Errorf("no problem naming the realm: %v", problems)
	}
}
