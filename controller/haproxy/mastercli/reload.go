package mastercli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/external-haproxy/kit/internal/ctxutil"
)

// ReloadResult describes a confirmed reload.
type ReloadResult struct {
	MasterPID int
	Reloads   int // the master's reload counter after this reload
	WorkerPID int // the new current worker
	// Restarted: the master PID changed while confirming, i.e. haproxy was
	// restarted and loaded the files on disk from scratch instead of reloading.
	Restarted bool
	Duration  time.Duration // from sending "reload" to confirmation
}

// ReloadError is a reload haproxy refused or that could not be confirmed.
// The previous worker, if any, keeps serving.
type ReloadError struct {
	Reason string
	// Output is haproxy's own message: the text after "Success=0\n--" on 2.7+.
	// On 2.6 the errors only go to haproxy's stderr.
	Output string
	Before Proc
	After  Proc // zero when the master never answered again
	// Refused: haproxy answered and kept the previous worker serving (the
	// new config did not load), as opposed to a reload that could not be
	// confirmed.
	Refused bool
}

func (e *ReloadError) Error() string {
	msg := "haproxy reload failed: " + e.Reason
	if e.Output != "" {
		msg += ":\n" + e.Output
	}
	return msg
}

// Reload asks the master to reload and waits until the outcome is known.
// haproxy 2.7+ answers "Success=1|0"; 2.6 answers nothing and reloads
// asynchronously, so the outcome is read from show proc: the master's reload
// counter rises on every attempt (or the master PID changes if haproxy was
// restarted meanwhile), then "[failed: N]" and the current worker tell success.
// Waiting for the master to come up is unbounded (ctx decides); the
// confirmation itself is bounded by the client timeout.
func (c *Client) Reload(ctx context.Context) (ReloadResult, error) {
	c.reloadMu.Lock()
	defer c.reloadMu.Unlock()

	var before Proc
	var reply string
	var start time.Time
	for {
		var err error
		if before, err = c.WaitUp(ctx); err != nil {
			return ReloadResult{}, err
		}
		start = time.Now()
		var written bool
		reply, written, err = c.send(ctx, "reload")
		if err == nil || written {
			// A reply lost after the write (connection closed by the
			// re-exec) is resolved by polling like an empty 2.6 reply.
			break
		}
		if !errors.Is(err, ErrNotUp) {
			return ReloadResult{}, err
		}
		// The master went away between show proc and reload (another reload
		// or a restart): start over from a fresh baseline.
	}

	if status, output, _ := strings.Cut(reply, "\n"); strings.TrimSpace(status) == "Success=0" {
		output = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(output), "--"))
		return ReloadResult{}, &ReloadError{Reason: "haproxy answered Success=0", Output: output, Before: before, Refused: true}
	}

	after, err := c.awaitReload(ctx, before, start.Add(c.timeout))
	if err != nil {
		return ReloadResult{}, err
	}
	res := ReloadResult{
		MasterPID: after.Master.PID,
		Reloads:   after.Master.Reloads,
		WorkerPID: after.CurrentWorker(),
		Restarted: after.Master.PID != before.Master.PID,
		Duration:  time.Since(start),
	}
	if reason := reloadFailure(before, after, res.Restarted); reason != "" {
		return res, &ReloadError{Reason: reason, Before: before, After: after, Refused: after.CurrentWorker() != 0}
	}
	return res, nil
}

// awaitReload polls show proc until the master shows a new reload attempt or a
// new PID. A first poll may still see the state before the re-exec, and during
// the re-exec the socket refuses connections; both are simply polled past.
func (c *Client) awaitReload(ctx context.Context, before Proc, deadline time.Time) (Proc, error) {
	for {
		p, err := c.ShowProc(ctx)
		switch {
		case err == nil && (p.Master.PID != before.Master.PID || p.Master.Reloads > before.Master.Reloads):
			return p, nil
		case err != nil && !errors.Is(err, ErrNotUp):
			return Proc{}, err
		}
		if time.Now().After(deadline) {
			reason := fmt.Sprintf("reload not confirmed within %v: master reload counter still %d", c.timeout, before.Master.Reloads)
			if err != nil {
				// 2.6 worker-init failure: the master exits and never comes back.
				reason = fmt.Sprintf("master did not come back within %v after reload: %v", c.timeout, err)
			}
			return Proc{}, &ReloadError{Reason: reason, Before: before, After: p}
		}
		if err := ctxutil.Sleep(ctx, c.pollInterval); err != nil {
			return Proc{}, fmt.Errorf("confirming reload: %w", err)
		}
	}
}

// reloadFailure returns why after shows a failed reload, or "".
func reloadFailure(before, after Proc, restarted bool) string {
	switch {
	case after.CurrentWorker() == 0:
		return "no current worker left"
	case after.Master.Failed > 0:
		return fmt.Sprintf("master reports %d failed reload(s) in a row (see haproxy's log for the reason)", after.Master.Failed)
	case !restarted && after.CurrentWorker() == before.CurrentWorker():
		// 2.2-2.4 have no failed counter: a failed reload keeps the old worker current.
		return fmt.Sprintf("worker %d is still the current worker", after.CurrentWorker())
	}
	return ""
}
