// Package updater turns change notifications into updates, one at a time.
// The first change after a quiet period is applied at once (leading edge);
// changes that arrive while an update runs, or too soon after one, are folded
// into a single next update (trailing edge). A failed update is retried after
// --reload-retry unless a newer change comes first.
package updater

import (
	"context"
	"syscall"
	"time"

	"k8s.io/utils/clock"
)

// Config holds the timing knobs, with upstream haproxy-ingress flag names.
type Config struct {
	// WaitBeforeUpdate (--wait-before-update) gathers the rest of a burst:
	// a trailing update starts no sooner than this after the first change
	// it folds in. A lone change is not delayed by it.
	WaitBeforeUpdate time.Duration
	// MinInterval (1 / --rate-limit-update) spaces the starts of updates
	// that changed something.
	MinInterval time.Duration
	// RetryAfter (--reload-retry) is the wait before retrying a failed update.
	RetryAfter time.Duration
	// Clock is the time source; nil is the real clock.
	Clock clock.Clock
	// CPU is the CPU time the process used so far; nil reads it from the
	// kernel (getrusage).
	CPU func() time.Duration
}

// cpuIdle is how many times the CPU time an update took the loop then
// stays idle while changes keep coming: the controller spends about a
// seventh of the time on updates (its CPU time for a burst is about a
// seventh of the burst), each update folding in more.
const cpuIdle = 6

// processCPU is the user and system time of the process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Loop runs Update whenever Trigger was called since the last run.
type Loop struct {
	cfg     Config
	clock   clock.Clock
	update  func(ctx context.Context) (changed bool, err error)
	pending chan struct{}
	// scheduled, when set (tests), runs once the loop has planned the
	// next update after one ended; waits each time it set the timer of a
	// trailing update.
	scheduled, waits func()
}

// New returns a loop that will call update; nothing runs before Run. update
// says whether it changed anything: one that found nothing to do does not
// count against the rate limit, so that the rest of a change written as
// several objects (Service, EndpointSlice, Ingress) is not held back by the
// update its first object started.
func New(cfg Config, update func(ctx context.Context) (changed bool, err error)) *Loop {
	c := cfg.Clock
	if c == nil {
		c = clock.RealClock{}
	}
	if cfg.CPU == nil {
		cfg.CPU = processCPU
	}
	return &Loop{cfg: cfg, clock: c, update: update, pending: make(chan struct{}, 1)}
}

// Trigger asks for an update; it never blocks, and triggers that arrive
// before the update starts are folded into it.
func (l *Loop) Trigger() {
	select {
	case l.pending <- struct{}{}:
	default:
	}
}

// Run calls update until ctx ends. Updates never overlap. After each one
// the loop stays idle at least as long as the update took, besides the rate
// limit, and, while changes keep coming, cpuIdle times the CPU time the
// process used meanwhile: under a stream of changes haproxy then spends at
// most half its time on updates and the controller about a seventh, and
// each update folds in all that arrived meanwhile, so a burst costs a few
// large updates, not many small ones. Once no change came for quietSpell
// the burst is over and its last changes are applied without the CPU idle.
// A lone change after a quiet spell is applied at once.
func (l *Loop) Run(ctx context.Context) {
	// The earliest start of the next update, and the latest while changes
	// keep coming.
	var hard, soft time.Time
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.pending:
		case <-retry:
		}
		retry = nil
		if now := l.clock.Now(); now.Before(soft) {
			// Trailing edge: too soon after the last update.
			if !l.waitTrailing(ctx, now, hard, soft) {
				return
			}
		}
		// Changes until now are part of this update.
		select {
		case <-l.pending:
		default:
		}
		start, cpu := l.clock.Now(), l.cfg.CPU()
		changed, err := l.update(ctx)
		end, used := l.clock.Now(), l.cfg.CPU()-cpu
		hard = end.Add(end.Sub(start))
		if changed {
			hard = later(hard, start.Add(l.cfg.MinInterval))
		}
		soft = later(hard, end.Add(cpuIdle*used))
		if err != nil && ctx.Err() == nil {
			retry = l.clock.After(l.cfg.RetryAfter)
		}
		if l.scheduled != nil {
			l.scheduled()
		}
	}
}

// quietSpell is how long no change must come for a burst to be over.
const quietSpell = 50 * time.Millisecond

// waitTrailing waits, from now, for the start of a trailing update: not
// before hard nor WaitBeforeUpdate after now, and until soft unless no
// change came for quietSpell. It is false when ctx ended.
func (l *Loop) waitTrailing(ctx context.Context, now, hard, soft time.Time) bool {
	hard = later(hard, now.Add(l.cfg.WaitBeforeUpdate))
	soft = later(soft, hard)
	last := now // the latest change known: the one that woke the loop
	for {
		due := soft
		if quiet := later(last.Add(quietSpell), hard); quiet.Before(due) {
			due = quiet
		}
		now = l.clock.Now()
		if !now.Before(due) {
			return true
		}
		// One timer at a time: a stale one would wake the loop for nothing.
		timer := l.clock.NewTimer(due.Sub(now))
		if l.waits != nil {
			l.waits()
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return false
		case <-l.pending:
			timer.Stop()
			last = l.clock.Now()
		case <-timer.C():
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
