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
// (nil error), returns an error (that error), ctx ends or timeout passes (an
// error saying how long it waited and, when describe is set, what it saw
// last).
func Every(ctx context.Context, timeout, interval time.Duration, cond func() (bool, error), describe func() string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
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
		case <-ctx.Done():
			msg := fmt.Sprintf("condition not met after %v", timeout)
			if describe != nil {
				msg += ": " + describe()
			}
			return fmt.Errorf("%s", msg)
		case <-t.C:
		}
	}
}
