// Command localcluster starts and stops the same throw-away control plane the
// tests use (package test/cluster), for people and scripts. Use it through
// hack/local-cluster.sh.
//
//	localcluster start DIR   # prints DIR/kubeconfig once the apiserver is ready
//	localcluster stop DIR
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/external-haproxy/kit/test/cluster"
)

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "start" && os.Args[1] != "stop") {
		fmt.Fprintln(os.Stderr, "usage: localcluster start|stop DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		os.Exit(1)
	}
}

func run(cmd, dir string) error {
	if cmd == "stop" {
		return cluster.StopDir(dir)
	}
	// Ctrl-C while waiting for readiness should not leave half a cluster behind.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	t0 := time.Now()
	c, err := cluster.Start(ctx, cluster.Options{Dir: dir, Detach: true, Node: &cluster.NodeOptions{
		Labels: map[string]string{"role": "ingress-controller"},
	}})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "localcluster: %s ready in %v (logs in %s)\n", c.Host, time.Since(t0).Round(time.Millisecond), c.Dir)
	fmt.Println(c.Kubeconfig)
	return nil
}
