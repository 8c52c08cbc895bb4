package process

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/test/haproxybin"
)

func TestSupervisorRestartsAndStops(t *testing.T) {
	haproxybin.Run(t, testSupervisorRestartsAndStops)
}

func testSupervisorRestartsAndStops(t *testing.T, hb haproxybin.Build) {
	bin := hb.Path
	l := files.DefaultLayout(haproxybin.TempDir(t))
	for _, d := range []string{l.Etc, l.Run} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := "defaults\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n"
	if err := os.WriteFile(filepath.Join(l.Etc, "00-init.cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	started := make(chan int, 4)
	s := &Supervisor{
		Binary: bin, Layout: l, GracePeriod: 5 * time.Second,
		OnStart: func(_ context.Context, pid int) { started <- pid },
		Stdout:  io.Discard, Stderr: io.Discard,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()

	next := func() int {
		select {
		case pid := <-started:
			return pid
		case <-time.After(10 * time.Second):
			t.Fatal("no new master reported")
			return 0
		}
	}
	first := next()
	if live := liveInGroup(t, first); len(live) < 2 {
		t.Fatalf("want master and worker running in group %d, got %v", first, live)
	}
	// SIGKILL: a crash of the master, which the supervisor must restart
	// (the graceful stop is cancel below: SIGUSR1, then SIGTERM).
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	second := next()
	if second == first {
		t.Fatalf("master %d reported twice", first)
	}
	if live := liveInGroup(t, first); len(live) > 0 {
		t.Errorf("processes of the killed master's group still running: %v", live)
	}

	stopAt := time.Now()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	done <- nil // for the deferred receive
	// An idle haproxy soft-stops at once: reaching SIGTERM would take the grace period.
	if took := time.Since(stopAt); took > 2*time.Second {
		t.Errorf("stop took %v: SIGUSR1 soft stop not used", took)
	}
	if live := liveInGroup(t, second); len(live) > 0 {
		t.Errorf("haproxy processes left after stop: %v", live)
	}
}

// liveInGroup lists the processes of group pgid that are not zombies. The
// worker of a killed master is re-parented to PID 1, which reaps it when it
// likes; a zombie holds no port, so only running members count.
func liveInGroup(t *testing.T, pgid int) []string {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var live []string
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces, so split after ')'.
		_, rest, _ := strings.Cut(string(data), ") ")
		var state string
		var ppid, group int
		if _, err := fmt.Sscan(rest, &state, &ppid, &group); err != nil {
			continue
		}
		if group == pgid && state != "Z" {
			live = append(live, strings.TrimSpace(string(data[:min(len(data), 40)])))
		}
	}
	return live
}
