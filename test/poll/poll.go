// Package poll is the one way tests and the demo wait for a condition: check
// it now and then at an interval until it holds, fails or a deadline passes.
// Never a fixed sleep in its place.
package poll

import (
	"context"
	"fmt"
	"time"
)

// DefaultInterval suits conditions read from an API or a socket.
const DefaultInterval = 20 * time.Millisecond

// Until is Every with DefaultInterval.
func Until(ctx context.Context, timeout time.Duration, cond func() (bool, error), describe func() string) error {
	return Every(ctx, timeout, DefaultInterval, cond, describe)
}

// Every checks cond at once and then every interval until it returns true
// (nil error), returns an error (that error), timeout passes (an error
// saying how long it waited) or ctx ends first (an error wrapping ctx's, so
// that a cancelled wait is not reported as a timeout). Either error says,
// when describe is set, what cond saw last.
func Every(ctx context.Context, timeout, interval time.Duration, cond func() (bool, error), describe func() string) error {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-wctx.Done():
			last := ""
			if describe != nil {
				last = ": " + describe()
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("stopped waiting (%w)%s", err, last)
			}
			return fmt.Errorf("condition not met after %v%s", timeout, last)
		case <-t.C:
		}
	}
}
