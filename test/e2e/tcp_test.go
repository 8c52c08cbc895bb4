package e2e

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/test/e2eenv"
)

// TestTCPServicesConfigMap: with --tcp-services-configmap an entry's port
// forwards TCP to its Service (an HTTP request through it reaches the echo
// server as sent); endpoint changes go without a reload; an edited entry
// moves the port to another Service, while a bad entry is an Event on the
// ConfigMap and the others keep serving.
func TestTCPServicesConfigMap(t *testing.T) {
	r := newRT(t, nil)
	r.service("svc-a", r.backend("echo-a"))
	r.service("svc-b", r.backend("echo-b"))
	a2 := r.backend("echo-a2")
	const port = 9000
	cms := r.env.Admin.CoreV1().ConfigMaps(e2eenv.Namespace)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: e2eenv.Namespace, Name: "tcp-services"},
		Data: map[string]string{"9000": appNS + "/svc-a:http"}}
	if _, err := cms.Create(r.ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.env.Roll(context.Background(), func(spec *corev1.PodSpec) {
		for i := range spec.Containers {
			if c := &spec.Containers[i]; c.Name == e2eenv.Controller {
				c.Args = append(c.Args, "--tcp-services-configmap="+e2eenv.Namespace+"/tcp-services")
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	// Plain TCP: haproxy's http rules (its Server header) do not apply.
	get := func() (e2eenv.Response, error) { return r.env.GetAt(port, "", "/", false) }
	wait := func(what, server string) e2eenv.Response {
		t.Helper()
		_, resp, err := r.env.Eventually(routeWait, get, func(resp e2eenv.Response) bool { return answeredBy(resp, server) })
		if err != nil {
			t.Fatalf("%s: port %d not answered by %s: %v (last %d %.80q)", what, port, server, err, resp.Status, resp.Body)
		}
		return resp
	}
	if resp := wait("entry created", "echo-a"); resp.Header.Get("Server") == "haproxy" {
		t.Errorf("TCP answer carries haproxy's Server header: %v", resp.Header)
	}

	before := r.reloads()
	r.endpoints("svc-a", a2)
	wait("endpoint moved", "echo-a2")
	if n := r.reloads(); n != before {
		t.Errorf("endpoint change of a TCP service: %d -> %d reloads, want a runtime update", before, n)
	}

	cm.Data = map[string]string{"9000": appNS + "/svc-b:http", "9001": appNS + "/svc-a:http::SOCKS"}
	if _, err := cms.Update(r.ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	wait("entry edited", "echo-b")
	r.waitEventIn(e2eenv.Namespace, "ConfigMap", "tcp-services", "InvalidConfiguration", "data[9001]", `out-proxy "SOCKS"`, "skipped")
}
