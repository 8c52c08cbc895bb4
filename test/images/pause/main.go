// Command pause is the process of the node's sandbox ("pause") image. It
// holds a pod's namespaces open, reaps the zombies that land on it as PID 1 of
// a pod with a shared process namespace, and exits on SIGTERM or SIGINT, which
// is how the runtime stops a sandbox. Nothing can be pulled on the test node,
// so this stands in for registry.k8s.io/pause.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			fmt.Fprintf(os.Stderr, "pause: %v, exiting\n", sig)
			os.Exit(0)
		}
		// Signals coalesce: one SIGCHLD may stand for several exited
		// children, so reap until none is left.
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
