package e2e

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/external-haproxy/kit/test/e2eenv"
	"github.com/external-haproxy/kit/test/testcert"
)

// defaultCertCN is the CommonName of the certificate the controller
// generates for hosts without one.
const defaultCertCN = "haproxy-ingress default certificate"

// tlsSecret creates or replaces a kubernetes.io/tls Secret in appNS.
func (r *rt) tlsSecret(name string, certPEM, keyPEM []byte) {
	r.t.Helper()
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: appNS, Name: name}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM}}
	secrets := r.env.Admin.CoreV1().Secrets(appNS)
	_, err := secrets.Create(r.ctx, sec, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = secrets.Update(r.ctx, sec, metav1.UpdateOptions{})
	}
	if err != nil {
		r.t.Fatal(err)
	}
}

// waitEvent waits for a Warning Event on an object of appNS whose reason is
// reason and whose message contains every one of parts.
func (r *rt) waitEvent(kind, name, reason string, parts ...string) corev1.Event {
	r.t.Helper()
	return r.waitEventIn(appNS, kind, name, reason, parts...)
}

// waitEventIn is waitEvent for an object of namespace ns.
func (r *rt) waitEventIn(ns, kind, name, reason string, parts ...string) corev1.Event {
	r.t.Helper()
	sel := fields.Set{"involvedObject.kind": kind, "involvedObject.name": name}.AsSelector().String()
	var seen []string
	var found *corev1.Event
	var listErr error
	match := func() bool {
		list, err := r.env.Admin.CoreV1().Events(ns).List(r.ctx, metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			listErr = err
			return true
		}
		seen = seen[:0]
		for _, ev := range list.Items {
			seen = append(seen, fmt.Sprintf("%s %s: %s", ev.Type, ev.Reason, ev.Message))
			if ev.Type != corev1.EventTypeWarning || ev.Reason != reason {
				continue
			}
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(ev.Message, p)
			}
			if ok {
				found = &ev
				return true
			}
		}
		return false
	}
	if eventually(routeWait, match) {
		if listErr != nil {
			r.t.Fatal(listErr)
		}
		return *found
	}
	r.t.Fatalf("no %s Event on %s %s/%s with message containing %q; events: %q", reason, kind, ns, name, parts, seen)
	return corev1.Event{}
}

// TestTLSSecretServedBySNI: the Secret of an Ingress spec.tls host is served
// for that SNI, other names get the generated default certificate, plain
// http to the TLS host redirects to https; a rotated Secret is served at
// once, and an invalid one puts the host back on the default certificate
// with an Event on the Ingress while everything keeps serving.
func TestTLSSecretServedBySNI(t *testing.T) {
	r := newRT(t, nil)
	const secure, plain = "secure.example.com", "plain.example.com"
	r.service("svc-s", r.backend("echo-s"))
	r.service("svc-p", r.backend("echo-p"))
	c, k := testcert.SelfSigned(t, testcert.ECKey(t), "secure-v1", secure)
	r.tlsSecret("secure-tls", c, k)
	ing := routeIngress("secure", e2eenv.ClassName, routeRule(secure, prefixRoute("/", "svc-s")))
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{secure}, SecretName: "secure-tls"}}
	r.create(ing)
	r.create(routeIngress("plain", e2eenv.ClassName, routeRule(plain, prefixRoute("/", "svc-p"))))

	httpsFrom := func(cert, server string) func(e2eenv.Response) bool {
		return func(resp e2eenv.Response) bool { return resp.Cert == cert && answeredBy(resp, server) }
	}
	resp := r.waitFor("secure host over https", secure, "/x", true, httpsFrom("secure-v1", "echo-s"))
	if h := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(h, "max-age=") {
		t.Errorf("https response without HSTS header: %q", h)
	}
	r.waitFor("plain host over https", plain, "/", true, httpsFrom(defaultCertCN, "echo-p"))
	if resp := r.get("nobody.example.com", "/", true); resp.Cert != defaultCertCN || resp.Status != 404 {
		t.Errorf("unknown SNI: cert %q status %d, want the default certificate and 404", resp.Cert, resp.Status)
	}

	// http: the TLS host redirects (302 by default) keeping path and query,
	// the other host is served as is.
	redirect := r.get(secure, "/some/path?q=1", false)
	wantLoc := fmt.Sprintf("https://%s/some/path?q=1", secure) // haproxy serves on 443 of the node
	if redirect.Status != 302 || redirect.Header.Get("Location") != wantLoc {
		t.Errorf("http to the TLS host: %d Location %q, want 302 %q", redirect.Status, redirect.Header.Get("Location"), wantLoc)
	}
	r.expectServer(plain, "/", "echo-p")

	// Rotation: same Secret name, new certificate.
	c2, k2 := testcert.SelfSigned(t, testcert.ECKey(t), "secure-v2", secure)
	r.tlsSecret("secure-tls", c2, k2)
	r.waitFor("rotated certificate", secure, "/", true, httpsFrom("secure-v2", "echo-s"))

	// An invalid Secret: the host falls back to the default certificate
	// and keeps being served, and the Ingress gets an Event.
	r.tlsSecret("secure-tls", []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"), k2)
	r.waitFor("default certificate after an invalid Secret", secure, "/", true, httpsFrom(defaultCertCN, "echo-s"))
	r.waitFor("plain host over https", plain, "/", true, httpsFrom(defaultCertCN, "echo-p"))
	r.expectServer(plain, "/", "echo-p")
	if resp := r.get(secure, "/", false); resp.Status != 302 {
		t.Errorf("http to the TLS host with an invalid Secret: %d, want the redirect kept (302)", resp.Status)
	}
	ev := r.waitEvent("Ingress", "secure", "InvalidConfiguration", "spec.tls[0]", "secure-tls")
	t.Logf("event: %s", ev.Message)

	// Fixed again: the Secret's certificate is back.
	r.tlsSecret("secure-tls", c, k)
	r.waitFor("certificate after the Secret is fixed", secure, "/", true, httpsFrom("secure-v1", "echo-s"))
}
