package pipeline

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/klog/v2"

	"github.com/external-haproxy/kit/controller/haproxy/runtime"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/internal/ctxutil"
)

const (
	// drainPoll is how often draining backends are asked whether their
	// draining servers are idle: one "show stat" per backend, about 0.25 ms.
	drainPoll = 100 * time.Millisecond
	// drainBound ends a drain that never gets idle (a websocket, a stream).
	// maint does not cut the connections a server has (observed on 2.6), so
	// the bound only decides when the slot is free again; 30 s is the
	// default terminationGracePeriodSeconds, after which Kubernetes kills
	// the old pod and its connections are gone anyway.
	drainBound = 30 * time.Second
)

// slot names one server of one backend.
type slot struct{ backend, server string }

// drainer finishes the drains that dynamic updates start: a server set to
// drain gets no new requests, and once haproxy reports it idle (no current
// session, nothing queued) or after drainBound it is set to maint; only then
// is its slot free for another endpoint (Server.Draining cleared). It polls
// on its own goroutine, so the update loop never waits for a drain.
type drainer struct {
	// mu is held while a maint is sent and while an update changes the
	// worker (runtime commands, reload), so that a maint never lands on a
	// slot an update just brought back, nor on a worker a reload started.
	mu      sync.Mutex
	pending map[slot]time.Time // draining slots: when their drain began
	done    []slot             // drained, not yet cleared in the running model
	polling bool
}

// settle marks the slots whose drain ended as free in running, the model
// the next Diff starts from.
func (d *drainer) settle(running *model.Model) {
	d.mu.Lock()
	done := d.done
	d.done = nil
	d.mu.Unlock()
	if running == nil || len(done) == 0 {
		return
	}
	byName := make(map[string]*model.Backend, len(running.Backends))
	for i := range running.Backends {
		byName[running.Backends[i].Name] = &running.Backends[i]
	}
	for _, sl := range done {
		if be := byName[sl.backend]; be != nil {
			for i := range be.Servers {
				if be.Servers[i].Name == sl.server {
					be.Servers[i].Draining = false
				}
			}
		}
	}
}

// dynamic runs apply, which sends the runtime commands of ops, with no maint
// sent meanwhile. A slot that ops bring back stops draining; once apply
// succeeded, the slots ops drain are watched until idle, for as long as ctx
// lives (the update loop's context, not one update's).
func (d *drainer) dynamic(ctx context.Context, send sender, ops []model.SlotOp, apply func() error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, op := range ops {
		if op.Action != model.SlotDrain {
			delete(d.pending, slot{op.Backend, op.Server})
		}
	}
	if err := apply(); err != nil {
		return err
	}
	now := time.Now()
	for _, op := range ops {
		if op.Action == model.SlotDrain {
			if d.pending == nil {
				d.pending = map[slot]time.Time{}
			}
			d.pending[slot{op.Backend, op.Server}] = now
		}
	}
	if len(d.pending) > 0 && !d.polling {
		d.polling = true
		go d.poll(ctx, send)
	}
	return nil
}

// reload runs reload with no maint sent meanwhile. A worker that loaded the
// files (no error) has every slot that was draining disabled, so next, the
// model it now runs, has no draining slot; the drains are dropped then, and
// also when the worker is unknown (not inSync: the next update reloads).
func (d *drainer) reload(next *model.Model, reload func() (bool, error), inSync func() bool) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	reloaded, err := reload()
	if err == nil || !inSync() {
		d.pending, d.done = nil, nil
	}
	if err == nil {
		for i := range next.Backends {
			for j := range next.Backends[i].Servers {
				next.Backends[i].Servers[j].Draining = false
			}
		}
	}
	return reloaded, err
}

// sender runs one runtime API command on the current worker (Driver.Runtime).
type sender func(ctx context.Context, cmd string) (string, error)

// poll ends drains until none is left or ctx ends; a later dynamic update
// starts it again.
func (d *drainer) poll(ctx context.Context, send sender) {
	for {
		err := ctxutil.Sleep(ctx, drainPoll)
		d.mu.Lock()
		if err != nil || len(d.pending) == 0 {
			d.polling = false
			d.mu.Unlock()
			return
		}
		byBackend := map[string]map[string]time.Time{}
		for sl, since := range d.pending {
			if byBackend[sl.backend] == nil {
				byBackend[sl.backend] = map[string]time.Time{}
			}
			byBackend[sl.backend][sl.server] = since
		}
		d.mu.Unlock()
		for backend, servers := range byBackend {
			idle, err := idleServers(ctx, send, backend)
			if err != nil {
				klog.V(1).Infof("drain: %v", err)
			}
			for server, since := range servers {
				if over := time.Since(since) > drainBound; over || idle[server] {
					d.finish(ctx, send, slot{backend, server}, since, over)
				}
			}
		}
	}
}

// finish sets a drained slot to maint, unless an update took it back or a
// reload dropped it since the poll saw it idle.
func (d *drainer) finish(ctx context.Context, send sender, sl slot, since time.Time, over bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pending[sl] != since {
		return
	}
	op := model.SlotOp{Backend: sl.backend, Server: sl.server, Action: model.SlotMaint}
	out, err := send(ctx, runtime.SetServer(op))
	if err == nil && !runtime.OK(out) {
		err = fmt.Errorf("haproxy answered %q", strings.TrimSpace(out))
	}
	if err != nil {
		klog.Warningf("drain of %s/%s: %v", sl.backend, sl.server, err)
		return // tried again at the next poll
	}
	delete(d.pending, sl)
	d.done = append(d.done, sl)
	why := "idle"
	if over {
		why = "bound reached, connections left running"
	}
	klog.V(1).Infof("drained %s/%s after %v (%s): slot free", sl.backend, sl.server, time.Since(since).Round(time.Millisecond), why)
}

// idleServers lists the servers of backend that have no current session
// and no queued request (connections haproxy keeps idle for reuse carry no
// session).
func idleServers(ctx context.Context, send sender, backend string) (map[string]bool, error) {
	stats, err := serverStats(ctx, send, backend)
	if err != nil {
		return nil, err
	}
	idle := make(map[string]bool, len(stats))
	for server, st := range stats {
		idle[server] = st["scur"] == "0" && st["qcur"] == "0"
	}
	return idle, nil
}

// serverStats is the worker's "show stat" of backend's servers: server name
// → column → value.
func serverStats(ctx context.Context, send sender, backend string) (map[string]map[string]string, error) {
	out, err := send(ctx, runtime.ShowStat(backend))
	if err != nil {
		return nil, err
	}
	stats, err := runtime.ParseStat(out)
	if err != nil {
		return nil, fmt.Errorf("show stat %s: %w", backend, err)
	}
	return stats, nil
}
