package pipeline

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/external-haproxy/kit/controller/defaultcert"
	"github.com/external-haproxy/kit/controller/haproxy"
	"github.com/external-haproxy/kit/controller/health"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/internal/loopback"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// sample returns the sample of the metric called name whose label has
// value, or an empty one.
func sample(t *testing.T, m *health.Metrics, name, label, value string) *dto.Metric {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if f.GetName() == name && l.GetName() == label && l.GetValue() == value {
					return s
				}
			}
		}
	}
	return &dto.Metric{}
}

// rounds counts the updates that went as far as the driver's reload path
// (its haproxy -c, or the reload itself).
func rounds(t *testing.T, m *health.Metrics) uint64 {
	return sample(t, m, "haproxyingress_update_stage_seconds", "stage", "validate").GetHistogram().GetSampleCount()
}

// askAll asks host on port over new connections while during runs, and
// returns how many requests it sent and the answers not from want.
func askAll(port int, host, want string, during func()) (int, []string) {
	stop := make(chan struct{})
	done := make(chan struct{})
	var asked int
	var wrong []string
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			asked++
			if r, err := get(port, host, false); err != nil || r.status != 200 || r.body != want {
				wrong = append(wrong, fmt.Sprintf("%+v %v", r, err))
			}
		}
	}()
	during()
	close(stop)
	<-done
	return asked, wrong
}

// TestRejectedKeyLeftOutRestApplied: a ConfigMap value the model accepts
// but haproxy rejects when it loads the config (a syslog host that resolved
// for the controller and no longer does) must not hold back the Ingress
// created in the same burst: the key falls back to its default with a
// problem on the ConfigMap, everything else is served, at the cost of one
// more round, and later updates pay nothing for the held key. A client
// asking all along is never refused: the refused config never replaces the
// one that serves, whoever finds it out — haproxy -c before the reload
// (always), the reload itself (auto: 2.6's failed counter followed by
// haproxy -c for the messages, or 2.7+'s answer), or, without a local
// haproxy, the answer alone (2.7+; 2.6 answers nothing a rejection could be
// traced with).
func TestRejectedKeyLeftOutRestApplied(t *testing.T) {
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		t.Run("always", func(t *testing.T) { rejectedKey(t, hb.Path, hb.Path, haproxy.ValidateAlways) })
		t.Run("auto", func(t *testing.T) { rejectedKey(t, hb.Path, hb.Path, haproxy.ValidateAuto) })
		if hb.AtLeast("2.7") {
			t.Run("reload answer", func(t *testing.T) { rejectedKey(t, hb.Path, "", haproxy.ValidateAuto) })
		}
	})
}

func rejectedKey(t *testing.T, bin, checker string, validate haproxy.Validation) {
	l := initLayout(t)
	startExternal(t, bin, l)
	ctx := context.Background()
	cert, err := defaultcert.Generate(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var reported []model.Problem
	metrics := health.NewMetrics()
	s := &Syncer{Driver: haproxy.New(haproxy.Options{Layout: l, Binary: checker, ConnectionTimeout: 10 * time.Second, Validate: validate}),
		Layout: l, Metrics: metrics, Options: model.Options{DefaultCertificate: cert, Resolves: func(string) bool { return true }},
		Report: func(p model.Problem) { reported = append(reported, p) }}

	ports := loopback.Ports(t, 4)
	cm := map[string]string{"http-port": strconv.Itoa(ports[0]), "https-port": strconv.Itoa(ports[1]),
		"healthz-port": strconv.Itoa(ports[2]), "stats-port": strconv.Itoa(ports[3]), "bind-ip-addr-http": "127.0.0.1"}
	snap := &model.Snapshot{ConfigMap: cm}
	serve := func(name string) {
		snap.Ingresses = append(snap.Ingresses, ingress("app", name, map[string]string{name + ".example": name}, "", ""))
		snap.Services = append(snap.Services, service("app", name))
		snap.EndpointSlices = append(snap.EndpointSlices, endpointSlices("app", name, backend(t, name))...)
	}
	served := func(name string) {
		t.Helper()
		if r, err := get(ports[0], name+".example", false); err != nil || r.status != 200 || r.body != name {
			t.Fatalf("%s.example: %+v, %v", name, r, err)
		}
	}
	update := func() {
		t.Helper()
		snap = &model.Snapshot{ConfigMap: snap.ConfigMap, Ingresses: snap.Ingresses, Services: snap.Services, EndpointSlices: snap.EndpointSlices}
		if err := s.Update(ctx, snap); err != nil {
			t.Fatalf("update: %v", err)
		}
	}
	serve("alpha")
	update()
	served("alpha")
	base := rounds(t, metrics)

	cm["syslog-endpoint"] = "no-such-host.invalid:514"
	serve("bravo")
	asked, refused := askAll(ports[0], "alpha.example", "alpha", update)
	if len(refused) > 0 || asked == 0 {
		t.Errorf("while haproxy refused a config: %d of %d requests not served by alpha: %q", len(refused), asked, refused)
	}
	served("alpha")
	served("bravo")
	if n := rounds(t, metrics) - base; n != 2 {
		t.Errorf("%d rounds for one rejected key, want 2", n)
	}
	var held []model.Problem
	for _, p := range reported {
		if p.Object == model.ConfigMapRef && p.Field == "syslog-endpoint" && p.Severity == model.Error &&
			strings.Contains(p.Message, "no-such-host.invalid") && strings.Contains(p.Message, "[ALERT]") {
			held = append(held, p)
		}
	}
	if len(held) != 1 {
		t.Fatalf("want one problem on the key with haproxy's message, got %+v", reported)
	}
	if v := sample(t, metrics, "haproxyingress_rejected_objects_total", "kind", "ConfigMap").GetCounter().GetValue(); v != 1 {
		t.Errorf("rejected_objects_total{kind=ConfigMap} = %v, want 1", v)
	}

	// The held key costs no check of its own any more, and is not
	// reported again.
	base = rounds(t, metrics)
	serve("charlie")
	update()
	served("charlie")
	if n := rounds(t, metrics) - base; n != 1 {
		t.Errorf("%d rounds with the key already held, want 1", n)
	}
	count := len(reported)

	// Fixed: the key is applied.
	cm["syslog-endpoint"] = "stdout"
	update()
	served("alpha")
	if len(reported) != count {
		t.Errorf("new problems after the fix: %+v", reported[count:])
	}
	if s.quarantine.Len() != 0 {
		t.Error("the fixed key is still held")
	}
}
