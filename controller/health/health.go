// Package health serves the controller's /healthz, /readyz and /metrics
// (--healthz-addr) and holds the Prometheus metrics of the update pipeline.
package health

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Update kinds, as upstream's updates_total labels them.
const (
	KindNoop    = "noop"    // nothing haproxy loads changed
	KindDynamic = "dynamic" // applied through the runtime API, no reload
	KindReload  = "reload"  // files changed and haproxy reloaded
)

// Metrics are the pipeline's Prometheus metrics, namespace haproxyingress.
type Metrics struct {
	Registry      *prometheus.Registry
	Updates       *prometheus.CounterVec   // kind, result
	StageSeconds  *prometheus.HistogramVec // stage
	ReloadSuccess prometheus.Gauge         // 1 after a successful load, 0 after a failure
	MasterCLI     *prometheus.HistogramVec // command
	// RejectedObjects counts objects and ConfigMap keys left out because
	// haproxy rejected their configuration.
	RejectedObjects *prometheus.CounterVec // kind
}

// NewMetrics registers the metrics in a fresh registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Updates: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "haproxyingress", Name: "updates_total",
			Help: "Configuration updates by kind (noop, dynamic, reload) and result."}, []string{"kind", "result"}),
		StageSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "haproxyingress", Name: "update_stage_seconds",
			Help: "Duration of each update stage.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"stage"}),
		ReloadSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "haproxyingress", Name: "update_success",
			Help: "1 when the last update reached haproxy, 0 when it failed."}),
		MasterCLI: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "haproxyingress", Name: "haproxy_response_time_seconds",
			Help: "Response time of haproxy's master CLI and runtime API.", Buckets: []float64{.0005, .001, .002, .005, .01, .05, .1, .5, 1, 5}}, []string{"command"}),
		RejectedObjects: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "haproxyingress", Name: "rejected_objects_total",
			Help: "Objects (kind) and global ConfigMap keys (kind ConfigMap) left out because haproxy rejected their configuration."}, []string{"kind"}),
	}
	m.Registry.MustRegister(m.Updates, m.StageSeconds, m.ReloadSuccess, m.MasterCLI, m.RejectedObjects,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Server answers the probes. Ready turns true after the first successful
// load of real configuration, so the pod never takes traffic on the
// placeholder config.
type Server struct {
	ready   atomic.Bool
	metrics *Metrics
	// Profiling adds Go's /debug/pprof/ (--profiling).
	Profiling bool
}

// NewServer returns a not-yet-ready server.
func NewServer(m *Metrics) *Server { return &Server{metrics: m} }

// SetReady marks the first real configuration as live.
func (s *Server) SetReady() { s.ready.Store(true) }

// Handler serves /healthz, /readyz and /metrics, and /debug/pprof/ with
// Profiling.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "waiting for the first haproxy configuration", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("/metrics", promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}))
	if s.Profiling {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// ListenAndServe serves on addr until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
