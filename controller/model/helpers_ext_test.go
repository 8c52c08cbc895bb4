package model_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/render"
)

// ingress is a one-rule Ingress in namespace ns; path "" gives a rule
// without paths.
func ingress(name, host, path, svc string) *networkingv1.Ingress {
	pt := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: path, PathType: &pt, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
					Name: svc, Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}}},
	}
}

var (
	defaultOnce sync.Once
	defaultPEM  []byte
)

// defaultCert is a valid self-signed RSA-2048 bundle, made once.
func defaultCert(t *testing.T) []byte {
	defaultOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		defaultPEM = append(certPEM(issue(t, "default.test", k.Public(), nil, k, 0)), keyPEM(t, k)...)
	})
	return defaultPEM
}

// writeRendered renders m into dir and returns its layout.
func writeRendered(t *testing.T, m *model.Model, dir string) files.Layout {
	t.Helper()
	l := files.Layout{Etc: filepath.Join(dir, "etc"), Lib: filepath.Join(dir, "lib"), Run: filepath.Join(dir, "run")}
	writeSet(t, render.Render(m, l), l)
	return l
}

// writeSet replaces the files of layout l by set.
func writeSet(t *testing.T, set files.Set, l files.Layout) {
	t.Helper()
	os.RemoveAll(l.Etc)
	os.RemoveAll(l.Lib)
	if err := os.MkdirAll(l.Run, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range set {
		if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.Path, f.Data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// haproxyCheck runs haproxy -c on a rendered configuration. A warning
// counts as an error: it means the model let through something haproxy
// would not treat as written.
func haproxyCheck(t *testing.T, bin string, l files.Layout) error {
	t.Helper()
	out, err := haproxyC(bin, l)
	if err == nil && bytes.Contains(out, []byte("[WARNING]")) {
		err = errors.New("warnings")
	}
	if err != nil {
		return fmt.Errorf("haproxy -c: %v\n%s", err, out)
	}
	return nil
}

// haproxyC runs haproxy -c; exit 2 is "valid but no listener".
func haproxyC(bin string, l files.Layout) ([]byte, error) {
	out, err := exec.Command(bin, "-c", "-f", l.Etc).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 2 {
		err = nil
	}
	return out, err
}
