// Package updater coalesces change notifications into one update at a time:
// a burst of events becomes a single update after --wait-before-update, updates
// are spaced by --rate-limit-update, and a failed update is retried after
// --reload-retry unless a newer event comes first.
package updater

import (
	"context"
	"time"
)

// Config holds the timing knobs, with upstream haproxy-ingress flag names.
type Config struct {
	WaitBeforeUpdate time.Duration // debounce after the first event of a burst
	MinInterval      time.Duration // 1 / --rate-limit-update
	RetryAfter       time.Duration // --reload-retry
}

// Loop runs Update whenever Trigger was called since the last run.
type Loop struct {
	cfg     Config
	update  func(ctx context.Context) error
	pending chan struct{}
}

// New returns a loop that will call update; nothing runs before Run.
func New(cfg Config, update func(ctx context.Context) error) *Loop {
	return &Loop{cfg: cfg, update: update, pending: make(chan struct{}, 1)}
}

// Trigger asks for an update; it never blocks, and triggers that arrive
// before the update starts are folded into it.
func (l *Loop) Trigger() {
	select {
	case l.pending <- struct{}{}:
	default:
	}
}

// Run calls update until ctx ends. Updates never overlap.
func (l *Loop) Run(ctx context.Context) {
	var last time.Time
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.pending:
		case <-retry:
		}
		retry = nil
		wait := l.cfg.WaitBeforeUpdate
		if next := last.Add(l.cfg.MinInterval); time.Until(next) > wait {
			wait = time.Until(next)
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		// Events during the wait are part of this update.
		select {
		case <-l.pending:
		default:
		}
		last = time.Now()
		if err := l.update(ctx); err != nil && ctx.Err() == nil {
			retry = time.After(l.cfg.RetryAfter)
		}
	}
}
