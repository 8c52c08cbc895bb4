// Package mastercli talks to haproxy's master CLI (haproxy -W -S <socket>):
// show proc, reload with confirmation, and runtime API commands.
package mastercli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/klog/v2"

	"github.com/external-haproxy/kit/internal/ctxutil"
)

// DefaultTimeout matches upstream's --connection-timeout: haproxy 2.7+ answers
// "reload" only after the new config is loaded, which takes seconds for big configs.
const DefaultTimeout = 30 * time.Second

// Client sends one command per connection to a master (or stats) socket.
// A fresh connection per command always reaches the current process after a
// reload, and a reload closes every master CLI connection anyway.
type Client struct {
	socket  string
	timeout time.Duration
	// pollInterval is how often show proc is polled while a 2.6 reload runs.
	pollInterval time.Duration

	reloadMu sync.Mutex // reloads are not queued by haproxy: one at a time
	waitLog  rateLimitedLog
}

// New returns a client for the unix socket at path. timeout bounds each
// connection and the confirmation of a reload; 0 means DefaultTimeout.
func New(path string, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{socket: path, timeout: timeout, pollInterval: 10 * time.Millisecond}
}

// ErrNotUp classifies errors meaning "haproxy is not (yet) listening": the socket
// file is missing, the master is re-executing, or it closed before answering.
var ErrNotUp = errors.New("haproxy is not up")

// PermissionError is returned at once, without waiting: it will not go away by itself.
type PermissionError struct {
	Socket string
	Err    error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("permission denied on master socket %s: controller and haproxy must run as the same uid, or the socket needs uid/gid/mode (-S %s,uid,<n>,gid,<n>,mode,660): %v", e.Socket, e.Socket, e.Err)
}

func (e *PermissionError) Unwrap() error { return e.Err }

type notUpError struct {
	socket string
	err    error
}

func (e *notUpError) Error() string     { return fmt.Sprintf("master socket %s: %v", e.socket, e.err) }
func (e *notUpError) Unwrap() error     { return e.err }
func (e *notUpError) Is(t error) bool   { return t == ErrNotUp }
func (c *Client) notUp(err error) error { return &notUpError{socket: c.socket, err: err} }

// Command sends cmd and returns the raw reply. An empty reply is not an error:
// many commands answer a bare "\n", and 2.6's reload answers nothing.
func (c *Client) Command(ctx context.Context, cmd string) (string, error) {
	reply, _, err := c.send(ctx, cmd)
	return reply, err
}

// Worker sends a runtime API command to the current worker through the master.
func (c *Client) Worker(ctx context.Context, cmd string) (string, error) {
	return c.Command(ctx, "@1 "+cmd)
}

// masterPrompt ends each answer of the master CLI in prompt mode.
const masterPrompt = "\nmaster> "

// Batchable tells whether WorkerBatch takes cmd: one line, one command
// (the master CLI splits a line at ";").
func Batchable(cmd string) bool { return !strings.ContainsAny(cmd, "\n;") }

// WorkerBatch sends single-line runtime API commands to the current
// worker on one connection, in the master's prompt mode, whose prompt
// ends each answer: one connection instead of one per command (each costs
// a fraction of a millisecond, and a change's commands then reach haproxy
// back to back). The answers are in the order of cmds.
func (c *Client) WorkerBatch(ctx context.Context, cmds []string) ([]string, error) {
	var b strings.Builder
	b.WriteString("prompt")
	for _, cmd := range cmds {
		if !Batchable(cmd) {
			return nil, fmt.Errorf("command %q: a batch takes single commands of one line", strings.SplitN(cmd, "\n", 2)[0])
		}
		b.WriteString("\n@1 " + cmd)
	}
	reply, err := c.Command(ctx, b.String())
	if err != nil {
		return nil, err
	}
	// "master> " after the prompt command, then each answer and the prompt.
	answers := strings.Split(strings.TrimPrefix(reply, masterPrompt[1:]), masterPrompt)
	if len(answers) != len(cmds)+1 || answers[len(cmds)] != "" {
		return nil, fmt.Errorf("master socket %s: %d answers to %d commands: %q", c.socket, len(answers)-1, len(cmds), reply)
	}
	return answers[:len(cmds)], nil
}

// send reports whether cmd was fully written, so that a reload whose reply got
// lost is still confirmed by polling rather than sent twice.
func (c *Client) send(ctx context.Context, cmd string) (reply string, written bool, err error) {
	d := net.Dialer{Timeout: c.timeout}
	conn, err := d.DialContext(ctx, "unix", c.socket)
	if err != nil {
		return "", false, c.classify(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		return "", false, c.classify(ctxErr(ctx, err))
	}
	// The 2.6 master finishes a non-interactive exchange only on EOF from the client.
	if err := conn.(*net.UnixConn).CloseWrite(); err != nil {
		return "", true, c.classify(ctxErr(ctx, err))
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		return string(out), true, c.classify(ctxErr(ctx, err))
	}
	return string(out), true, nil
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (c *Client) classify(err error) error {
	switch {
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return &PermissionError{Socket: c.socket, Err: err}
	case errors.Is(err, os.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return c.notUp(err)
	}
	return fmt.Errorf("master socket %s: %w", c.socket, err)
}

// ShowProc sends "show proc" once. An empty reply (master closed the connection
// while re-executing) is ErrNotUp.
func (c *Client) ShowProc(ctx context.Context) (Proc, error) {
	reply, err := c.Command(ctx, "show proc")
	if err != nil {
		return Proc{}, err
	}
	if strings.TrimSpace(reply) == "" {
		return Proc{}, c.notUp(io.ErrUnexpectedEOF)
	}
	return ParseShowProc(reply)
}

// WaitUp polls show proc until the master answers, with a backoff from 1 ms
// doubling to 1 s, logging at most every 10 s. Only ErrNotUp errors are waited
// on; a permission error or ctx cancellation ends the wait.
func (c *Client) WaitUp(ctx context.Context) (Proc, error) {
	delay := time.Millisecond
	for {
		p, err := c.ShowProc(ctx)
		if err == nil || !errors.Is(err, ErrNotUp) {
			return p, err
		}
		c.waitLog.log(func() { klog.Infof("waiting for the external haproxy: master socket %s (%v)", c.socket, err) })
		if err := ctxutil.Sleep(ctx, delay); err != nil {
			return Proc{}, fmt.Errorf("waiting for master socket %s: %w", c.socket, err)
		}
		delay = min(2*delay, time.Second)
	}
}

// rateLimitedLog runs a log call at most once per interval (10 s).
type rateLimitedLog struct {
	mu   sync.Mutex
	last time.Time
}

func (r *rateLimitedLog) log(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.last) < 10*time.Second {
		return
	}
	r.last = time.Now()
	f()
}
