package model_test

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/dnsserver"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/liveproxy"
	"github.com/external-haproxy/kit/test/poll"
)

// TestLiveDNSResolver: a use-resolver backend is served at the address the
// name server gives for its Service's name, with no endpoint in the
// snapshot; when the answer changes, haproxy follows it by itself.
func TestLiveDNSResolver(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		snap := &model.Snapshot{}
		port := liveproxy.Backend(t, snap, "ns", "web", nil)
		snap.Services[0].Spec.Ports[0].TargetPort = intstr.FromInt(port)
		snap.EndpointSlices = nil // only DNS can find the server
		// The second server, on the same port of another loopback address.
		l, err := net.Listen("tcp", "127.0.0.2:"+strconv.Itoa(port))
		if err != nil {
			t.Skipf("127.0.0.2:%d: %v", port, err)
		}
		srv := &http.Server{Handler: liveproxy.EchoHandler("web")}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })

		dns := dnsserver.Start(t)
		name := "web.ns.svc.cluster.local"
		dns.Set(name, netip.MustParseAddr("127.0.0.1"))
		snap.ConfigMap = map[string]string{"dns-resolvers": "kube=" + dns.Addr.String(), "dns-hold-valid": "1s", "dns-timeout-retry": "200ms"}
		web := ingress("web", "web.test", "/", "web")
		web.Annotations = map[string]string{"haproxy-ingress.github.io/use-resolver": "kube"}
		snap.Ingresses = []*networkingv1.Ingress{web}
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		if len(p.Problems) > 0 {
			t.Fatalf("problems: %v", p.Problems)
		}
		servedBy := func(want string) {
			t.Helper()
			var got string
			err := poll.Until(context.Background(), 15*time.Second, func() (bool, error) {
				r := p.Get(t, "http", "web.test", "/")
				if e := r.Echo(); e != nil {
					got = e.Server
				} else {
					got = strconv.Itoa(r.Status)
				}
				return got == want, nil
			}, func() string { return "web.test served by " + got + ", want " + want })
			if err != nil {
				t.Fatal(err)
			}
		}
		servedBy("127.0.0.1:" + strconv.Itoa(port))
		dns.Set(name, netip.MustParseAddr("127.0.0.2"))
		servedBy("127.0.0.2:" + strconv.Itoa(port))
	})
}
