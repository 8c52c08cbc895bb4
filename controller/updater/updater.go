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
// stays idle: in a stream of changes the controller spends about a fifth
// of the time on updates (its CPU time for a burst is about a fifth of the
// burst), each update folding in more.
const cpuIdle = 4

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
	// next update after one ended.
	scheduled func()
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
// the loop stays idle at least as long as the update took, and cpuIdle
// times the CPU time the process used meanwhile, besides the rate limit:
// under a stream of changes haproxy then spends at most half its time on
// updates and the controller about a fifth, and each update folds in all
// that arrived meanwhile, so a burst costs a few large updates, not many
// small ones. A lone change after a quiet spell is applied at once.
func (l *Loop) Run(ctx context.Context) {
	var next time.Time // earliest start of the next update
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.pending:
		case <-retry:
		}
		retry = nil
		if now := l.clock.Now(); now.Before(next) {
			// Trailing edge: too soon after the last update.
			start := next
			if gather := now.Add(l.cfg.WaitBeforeUpdate); gather.After(start) {
				start = gather
			}
			select {
			case <-ctx.Done():
				return
			case <-l.clock.After(start.Sub(now)):
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
		next = time.Time{}
		if changed {
			next = start.Add(l.cfg.MinInterval)
		}
		for _, idle := range []time.Time{end.Add(end.Sub(start)), end.Add(cpuIdle * used)} {
			if idle.After(next) {
				next = idle
			}
		}
		if err != nil && ctx.Err() == nil {
			retry = l.clock.After(l.cfg.RetryAfter)
		}
		if l.scheduled != nil {
			l.scheduled()
		}
	}
}
