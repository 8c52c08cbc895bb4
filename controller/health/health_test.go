package health

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, s *Server, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

func TestReadyOnlyAfterFirstLoad(t *testing.T) {
	m := NewMetrics()
	s := NewServer(m)
	if code, _ := get(t, s, "/healthz"); code != 200 {
		t.Fatalf("/healthz = %d", code)
	}
	if code, _ := get(t, s, "/readyz"); code != 503 {
		t.Fatalf("/readyz before the first load = %d, want 503", code)
	}
	s.SetReady()
	if code, _ := get(t, s, "/readyz"); code != 200 {
		t.Fatalf("/readyz after the first load = %d", code)
	}
	m.Updates.WithLabelValues(KindReload, "success").Inc()
	if _, body := get(t, s, "/metrics"); !strings.Contains(body, `haproxyingress_updates_total{kind="reload",result="success"} 1`) {
		t.Fatalf("metrics lack the update counter:\n%s", body)
	}
}

// TestProfilingOnlyWhenAsked: /debug/pprof/ is served with --profiling
// only.
func TestProfilingOnlyWhenAsked(t *testing.T) {
	s := NewServer(NewMetrics())
	if code, _ := get(t, s, "/debug/pprof/"); code != 404 {
		t.Errorf("/debug/pprof/ without profiling = %d, want 404", code)
	}
	s.Profiling = true
	if code, body := get(t, s, "/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("/debug/pprof/ with profiling = %d %.80q", code, body)
	}
}
