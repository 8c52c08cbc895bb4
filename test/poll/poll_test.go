package poll

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// counter is a fake condition: it holds from the nth check on, or returns
// err at the nth check when err is set.
type counter struct {
	n, checks int
	err       error
}

func (c *counter) cond() (bool, error) {
	c.checks++
	if c.checks < c.n {
		return false, nil
	}
	return c.err == nil, c.err
}

func (c *counter) describe() string { return fmt.Sprintf("checked %d times", c.checks) }

func TestHoldsAtOnce(t *testing.T) {
	c := &counter{n: 1}
	if err := Until(context.Background(), time.Hour, c.cond, c.describe); err != nil || c.checks != 1 {
		t.Fatalf("err %v after %d checks, want nil after 1", err, c.checks)
	}
}

func TestHoldsLater(t *testing.T) {
	c := &counter{n: 3}
	if err := Every(context.Background(), time.Hour, time.Nanosecond, c.cond, c.describe); err != nil || c.checks != 3 {
		t.Fatalf("err %v after %d checks, want nil after 3", err, c.checks)
	}
}

func TestConditionErrorEndsTheWait(t *testing.T) {
	boom := errors.New("boom")
	c := &counter{n: 2, err: boom}
	if err := Every(context.Background(), time.Hour, time.Nanosecond, c.cond, c.describe); err != boom || c.checks != 2 {
		t.Fatalf("err %v after %d checks, want boom after 2", err, c.checks)
	}
}

func TestTimeoutSaysWhatItSaw(t *testing.T) {
	c := &counter{n: 1 << 30}
	err := Every(context.Background(), 0, time.Hour, c.cond, c.describe)
	if err == nil || !strings.Contains(err.Error(), "condition not met after 0s: checked 1 times") {
		t.Fatalf("err %v, want the timeout and the last description", err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v: a timeout of the wait itself is not the caller's context ending", err)
	}
}

func TestEndedContextIsNotATimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := &counter{n: 1 << 30}
	err := Every(ctx, time.Hour, time.Hour, c.cond, nil)
	if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "not met after") {
		t.Fatalf("err %v, want one wrapping context.Canceled", err)
	}
	if c.checks != 1 {
		t.Errorf("%d checks, want the one at once", c.checks)
	}
}
