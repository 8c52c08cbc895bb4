// Command localcluster starts and stops the same throw-away cluster the
// end-to-end tests use (package test/cluster): the control plane and one
// node (kubelet, containerd, kube-proxy) with the images of test/images
// imported, in a network namespace of its own. For people and scripts; use it
// through hack/local-cluster.sh.
//
//	localcluster start DIR   # prints DIR/kubeconfig once the node is Ready
//	localcluster stop DIR    # also after a crash: pods, mounts, namespaces
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/external-haproxy/kit/test/cluster"
	"github.com/external-haproxy/kit/test/e2eenv"
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
	node, err := e2eenv.NodeOptions(ctx, "", os.Stderr)
	if err != nil {
		return err
	}
	t1 := time.Now()
	c, err := cluster.Start(ctx, cluster.Options{Dir: dir, Detach: true, Node: &node})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "localcluster: %s with node %s (%s) ready in %v, images %v (logs in %s)\n",
		c.Host, cluster.NodeName, c.NodeIP(), time.Since(t1).Round(time.Millisecond), t1.Sub(t0).Round(time.Millisecond), c.Dir)
	fmt.Println(c.Kubeconfig)
	return nil
}
