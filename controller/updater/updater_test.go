package updater

import (
	"context"
	"errors"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/external-haproxy/kit/test/poll"
)

// harness runs a Loop on a fake clock. Each update reports its start time on
// starts and returns what the test sends on results, so the test decides how
// long (in fake time) each update takes and how it ends.
type harness struct {
	t       *testing.T
	clock   *clocktesting.FakeClock
	loop    *Loop
	starts  chan time.Time
	results chan result
	ended   chan int // triggers pending when the loop had planned the next update
	waits   chan struct{}
	pending int // what ended said last
	t0      time.Time
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, starts: make(chan time.Time), results: make(chan result), ended: make(chan int), waits: make(chan struct{}, 100), t0: time.Unix(1_000_000, 0)}
	h.clock = clocktesting.NewFakeClock(h.t0)
	cfg.Clock = h.clock
	if cfg.CPU == nil {
		cfg.CPU = func() time.Duration { return 0 }
	}
	// Every send to the test gives up once the test ended, so that a test
	// that failed with an update unaccounted for does not hang in cleanup.
	ctx, cancel := context.WithCancel(context.Background())
	h.loop = New(cfg, func(ctx context.Context) (bool, error) {
		select {
		case h.starts <- h.clock.Now():
		case <-ctx.Done():
			return false, ctx.Err()
		}
		select {
		case r := <-h.results:
			return r.changed, r.err
		case <-ctx.Done():
			return false, ctx.Err()
		}
	})
	h.loop.scheduled = func() {
		select {
		case h.ended <- len(h.loop.pending):
		case <-ctx.Done():
		}
	}
	h.loop.waits = func() {
		select {
		case h.waits <- struct{}{}:
		case <-ctx.Done():
		}
	}
	done := make(chan struct{})
	go func() { h.loop.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

// started waits for the next update to start and returns its start, as an
// offset from the fake clock's origin.
func (h *harness) started() time.Duration {
	h.t.Helper()
	select {
	case s := <-h.starts:
		return s.Sub(h.t0)
	case <-time.After(5 * time.Second):
		h.t.Fatal("no update started")
		return 0
	}
}

// result is how an update ends.
type result struct {
	changed bool
	err     error
}

// finish ends the running update after it took d of fake time, having
// changed something, and waits until the loop has planned the next one.
func (h *harness) finish(d time.Duration, err error) { h.end(d, result{true, err}) }

func (h *harness) end(d time.Duration, r result) {
	h.clock.Step(d)
	h.results <- r
	h.pending = <-h.ended
}

// waiting blocks until the loop waits on the fake clock (a deferred update).
func (h *harness) waiting() {
	h.t.Helper()
	err := poll.Every(context.Background(), 5*time.Second, time.Millisecond,
		func() (bool, error) { return h.clock.HasWaiters(), nil }, nil)
	if err != nil {
		h.t.Fatalf("the loop never waited for a deferred update: %v", err)
	}
}

// consumed waits until the loop took a trigger that came while it waited
// for a trailing update, and set its timer again.
func (h *harness) consumed() {
	h.t.Helper()
	select {
	case <-h.waits:
	case <-time.After(5 * time.Second):
		h.t.Fatal("the loop never took the trigger")
	}
}

// The checks that no update starts look at what could start one instead of
// giving the loop a while to do it: a trigger, pending when the last update
// ended, or a timer on the fake clock, which Step fires before it returns.

// idle checks that the loop can start no update of its own accord: no
// trigger was pending when the last update ended and it waits on no timer
// (neither a deferred update nor a retry).
func (h *harness) idle() {
	h.t.Helper()
	if h.pending != 0 || h.clock.HasWaiters() {
		h.t.Fatalf("an update will start: %d trigger(s) pending at the end of the last one, timer set %v", h.pending, h.clock.HasWaiters())
	}
}

// notDue checks, after a Step short of a deferred update's start, that the
// update did not come due: the loop still waits on its timer.
func (h *harness) notDue() {
	h.t.Helper()
	if !h.clock.HasWaiters() {
		h.t.Fatalf("the deferred update came due early, at %v", h.clock.Now().Sub(h.t0))
	}
}

func TestLoneChangeIsAppliedAtOnce(t *testing.T) {
	h := newHarness(t, Config{WaitBeforeUpdate: 200 * time.Millisecond, MinInterval: time.Second})
	h.loop.Trigger()
	if at := h.started(); at != 0 {
		t.Fatalf("a lone change started after %v, want at once", at)
	}
	h.finish(10*time.Millisecond, nil)
	// Quiet beyond the rate limit: the next lone change is immediate too.
	h.clock.Step(2 * time.Second)
	h.loop.Trigger()
	if at := h.started(); at != 2010*time.Millisecond {
		t.Fatalf("second lone change started at %v, want 2.01s", at)
	}
	h.finish(0, nil)
}

func TestChangesDuringAnUpdateBecomeOneUpdate(t *testing.T) {
	h := newHarness(t, Config{WaitBeforeUpdate: 20 * time.Millisecond, MinInterval: 100 * time.Millisecond})
	h.loop.Trigger()
	h.started()
	for range 100 {
		h.loop.Trigger()
	}
	h.finish(30*time.Millisecond, nil)
	h.waiting()
	h.clock.Step(70 * time.Millisecond) // to the rate limit: 100 ms after the first start
	if at := h.started(); at != 100*time.Millisecond {
		t.Fatalf("trailing update at %v, want 100ms", at)
	}
	h.finish(0, nil)
	h.idle()
}

// TestUpdatesAreSpacedByTheirCost: after an update the loop stays idle as
// long as it took (its wall time) and, while changes keep coming, six times
// the CPU time the process used meanwhile (its threads together); once no
// change came for 50 ms, only the wall time holds it back.
func TestUpdatesAreSpacedByTheirCost(t *testing.T) {
	for _, c := range []struct {
		name      string
		took, cpu time.Duration
		// stream: a change every 40 ms until then (0: none after the one
		// during the update).
		stream time.Duration
		next   time.Duration
	}{
		{"a slow update: idle as long again", 400 * time.Millisecond, 0, 0, 800 * time.Millisecond},
		{"a CPU-bound one under a stream of changes: six times its CPU", 100 * time.Millisecond, 150 * time.Millisecond, time.Second, 1000 * time.Millisecond},
		{"a CPU-bound one, changes stopped: its wall time", 100 * time.Millisecond, 150 * time.Millisecond, 0, 200 * time.Millisecond},
		{"a CPU-bound one, changes stopped later: 50 ms after the last", 100 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond, 310 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			var cpu time.Duration
			h := newHarness(t, Config{MinInterval: 10 * time.Millisecond, CPU: func() time.Duration { return cpu }})
			h.loop.Trigger()
			h.started()
			h.loop.Trigger()
			cpu += c.cpu
			h.finish(c.took, nil)
			h.consumed() // the first timer
			at := c.took
			for ; at+40*time.Millisecond < c.stream; at += 40 * time.Millisecond {
				h.clock.Step(40 * time.Millisecond)
				h.notDue()
				h.loop.Trigger()
				h.consumed()
			}
			h.clock.Step(c.next - at - time.Millisecond)
			h.notDue()
			h.clock.Step(time.Millisecond)
			if at := h.started(); at != c.next {
				t.Fatalf("next update at %v, want %v", at, c.next)
			}
			h.finish(0, nil)
		})
	}
}

func TestTrailingUpdateGathersTheBurst(t *testing.T) {
	h := newHarness(t, Config{WaitBeforeUpdate: 50 * time.Millisecond, MinInterval: 10 * time.Millisecond})
	h.loop.Trigger()
	h.started()
	h.finish(0, nil)
	h.clock.Step(5 * time.Millisecond)
	h.loop.Trigger() // too soon: deferred, and then gathered for 50 ms
	h.waiting()
	h.clock.Step(49 * time.Millisecond)
	h.notDue()
	h.clock.Step(time.Millisecond)
	if at := h.started(); at != 55*time.Millisecond {
		t.Fatalf("trailing update at %v, want 55ms", at)
	}
	h.finish(0, nil)
}

func TestFailedUpdateIsRetried(t *testing.T) {
	h := newHarness(t, Config{RetryAfter: 30 * time.Second})
	h.loop.Trigger()
	h.started()
	h.finish(0, errors.New("reload failed"))
	h.waiting()
	h.clock.Step(30 * time.Second)
	if at := h.started(); at != 30*time.Second {
		t.Fatalf("retry at %v, want 30s", at)
	}
	h.finish(0, nil)
	h.idle() // no second retry
}

// An update that found nothing to do (the first object of a change written
// as several) does not hold back the next one by the rate limit.
func TestUnchangedUpdateIsNotRateLimited(t *testing.T) {
	h := newHarness(t, Config{MinInterval: 100 * time.Millisecond})
	h.loop.Trigger()
	h.started()
	h.end(2*time.Millisecond, result{changed: false})
	h.clock.Step(3 * time.Millisecond) // after the idle time of a 2 ms update
	h.loop.Trigger()
	if at := h.started(); at != 5*time.Millisecond {
		t.Fatalf("update after an unchanged one at %v, want 5ms", at)
	}
	h.finish(0, nil)
}
