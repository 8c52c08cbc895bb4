package pipeline

import (
	"context"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/haproxy/runtime"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/poll"
)

// TestLoadServerStateOnRealHAProxy: with load-server-state, an endpoint
// that health checks took down is still down right after a reload, so no
// request goes to it: haproxy says it took the state from the file. Without
// the key the reload starts it up, and requests fail on it until its first
// check (which 2 of 6 requests did in some runs).
func TestLoadServerStateOnRealHAProxy(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		for _, load := range []bool{true, false} {
			s, ports, cm := externalSyncer(t, hb, model.Options{})
			ctx := context.Background()
			if load {
				cm["load-server-state"] = "true"
			}
			dead := closedPort(t)
			ing := ingress("app", "web", map[string]string{"web.example": "a"}, "", "")
			// Fast checks find the dead endpoint quickly; the reload below
			// makes them slow, so that only a carried state keeps it down.
			ing.Annotations = map[string]string{"haproxy-ingress.github.io/health-check-interval": "100ms",
				"haproxy-ingress.github.io/health-check-fall-count": "1"}
			snap := &model.Snapshot{ConfigMap: cm, Services: []*corev1.Service{service("app", "a")},
				EndpointSlices: endpointSlices("app", "a", backend(t, "a1"), dead), Ingresses: []*networkingv1.Ingress{ing}}
			if err := s.Update(ctx, snap); err != nil {
				t.Fatal(err)
			}
			be := s.running.Backends[len(s.running.Backends)-1]
			slot := ""
			for _, srv := range be.Servers {
				if srv.Port == dead {
					slot = srv.Name
				}
			}
			// state is a column of the dead slot's line of show servers state.
			state := func(column string) string {
				out, err := s.Driver.Runtime(ctx, runtime.ShowServersState)
				if err != nil {
					t.Fatal(err)
				}
				return serverState(t, out, be.Name, slot, column)
			}
			if err := poll.Until(ctx, 10*time.Second, func() (bool, error) { return state("srv_op_state") == "0", nil },
				func() string { return "dead endpoint's slot " + slot + ": state " + state("srv_op_state") }); err != nil {
				t.Fatal(err)
			}

			ing.Annotations = map[string]string{"haproxy-ingress.github.io/health-check-interval": "10s",
				"haproxy-ingress.github.io/health-check-fall-count": "3"}
			applied := s.Applied()
			if err := s.Update(ctx, snap); err != nil {
				t.Fatal(err)
			}
			if s.Applied() != applied+1 {
				t.Fatal("the health check change was not applied")
			}
			failed := 0
			for range 6 {
				if r, err := get(ports[0], "web.example", false); err != nil || r.status != 200 {
					failed++
				}
			}
			logs, err := s.Driver.Runtime(ctx, "show startup-logs")
			if err != nil {
				t.Fatal(err)
			}
			carried := strings.Contains(logs, "Server "+be.Name+"/"+slot+" is DOWN, changed from server-state after a reload")
			switch op := state("srv_op_state"); {
			case load && (!carried || op != "0" || failed > 0):
				t.Errorf("load-server-state: after the reload the dead endpoint has state %s (0: down) and %d of 6 requests failed, want down and none; "+
					"haproxy's start-up log:\n%s", op, failed, logs)
			case !load && strings.Contains(logs, "server-state"):
				t.Errorf("without load-server-state haproxy read a server state:\n%s", logs)
			}
			if load {
				// Emptied once read: a later start must not apply states to
				// slots moved since.
				if data, err := os.ReadFile(s.Layout.ServerState()); err != nil || string(data) != runtime.EmptyServersState {
					t.Errorf("server state file after the reload: %q, %v; want it emptied", data, err)
				}
			}
		}
	})
}

// serverState is column of server srv of backend be in dump, the answer to
// show servers state.
func serverState(t *testing.T, dump, be, srv, column string) string {
	t.Helper()
	lines := strings.Split(dump, "\n")
	if len(lines) < 2 {
		t.Fatalf("server state %q", dump)
	}
	header := strings.Fields(strings.TrimPrefix(lines[1], "# "))
	at := slices.Index(header, column)
	for _, l := range lines[2:] {
		if f := strings.Fields(l); len(f) == len(header) && f[1] == be && f[3] == srv {
			return f[at]
		}
	}
	t.Fatalf("no server %s/%s in %q", be, srv, dump)
	return ""
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}
