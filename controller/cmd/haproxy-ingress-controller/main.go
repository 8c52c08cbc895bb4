// Command haproxy-ingress-controller watches Kubernetes and keeps a haproxy —
// its own child (embedded) or a sidecar reached through --master-socket
// (external) — serving the cluster's Ingresses.
//
//	haproxy-ingress-controller --configmap=NS/NAME [--master-socket=PATH] [flags]
//	haproxy-ingress-controller --init [--local-filesystem-prefix=DIR]
//	haproxy-ingress-controller render --configmap=NS/NAME -f FILE_OR_DIR... [--local-filesystem-prefix=DIR]
//	haproxy-ingress-controller check [--configmap=NS/NAME] [-f FILE_OR_DIR... | --kubeconfig=PATH] [-o text|json]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/klog/v2"
)

func main() {
	klog.InitFlags(nil)
	if len(os.Args) > 1 && os.Args[1] == "check" {
		code := checkExit(checkCommand(os.Args[2:], os.Stdout))
		klog.Flush()
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var err error
	if len(os.Args) > 1 && os.Args[1] == "render" {
		err = renderCommand(os.Args[2:])
	} else {
		err = runController(ctx, flag.CommandLine, os.Args[1:])
	}
	klog.Flush()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// checkExit is the exit code of check: 0 when every key is supported, 1
// when one is ignored or invalid, 2 when check could not tell.
func checkExit(clean bool, err error) int {
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "error:", err)
		return 2
	case !clean:
		return 1
	}
	return 0
}
