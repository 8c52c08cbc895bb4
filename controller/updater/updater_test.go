package updater

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func run(t *testing.T, cfg Config, update func(context.Context) error) (*Loop, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := New(cfg, update)
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	return l, func() { cancel(); <-done }
}

func TestBurstBecomesOneUpdate(t *testing.T) {
	var n atomic.Int32
	l, stop := run(t, Config{WaitBeforeUpdate: 50 * time.Millisecond}, func(context.Context) error { n.Add(1); return nil })
	defer stop()
	for range 100 {
		l.Trigger()
	}
	time.Sleep(300 * time.Millisecond)
	if got := n.Load(); got != 1 {
		t.Fatalf("100 triggers in a burst gave %d updates, want 1", got)
	}
	l.Trigger()
	time.Sleep(300 * time.Millisecond)
	if got := n.Load(); got != 2 {
		t.Fatalf("a later trigger gave %d updates in all, want 2", got)
	}
}

func TestUpdatesNeverOverlapAndAreSpaced(t *testing.T) {
	var running, overlaps atomic.Int32
	var starts []time.Time
	l, stop := run(t, Config{MinInterval: 100 * time.Millisecond}, func(context.Context) error {
		if running.Add(1) > 1 {
			overlaps.Add(1)
		}
		starts = append(starts, time.Now())
		time.Sleep(20 * time.Millisecond)
		running.Add(-1)
		return nil
	})
	deadline := time.Now().Add(450 * time.Millisecond)
	for time.Now().Before(deadline) {
		l.Trigger()
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	if overlaps.Load() != 0 {
		t.Fatal("updates overlapped")
	}
	if len(starts) < 2 || len(starts) > 6 {
		t.Fatalf("%d updates in 450ms at 10/s", len(starts))
	}
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < 95*time.Millisecond {
			t.Errorf("updates %d and %d only %v apart", i-1, i, gap)
		}
	}
}

func TestFailedUpdateIsRetried(t *testing.T) {
	var n atomic.Int32
	l, stop := run(t, Config{RetryAfter: 50 * time.Millisecond}, func(context.Context) error {
		if n.Add(1) < 3 {
			return errors.New("reload failed")
		}
		return nil
	})
	defer stop()
	l.Trigger()
	time.Sleep(400 * time.Millisecond)
	if got := n.Load(); got != 3 {
		t.Fatalf("got %d attempts, want 2 failures then 1 success", got)
	}
}
