// Command images builds the test node's container images into their cache
// (see package test/images) and imports them into a containerd.
//
//	go run ./hack/images build                           # prints the cache dir
//	go run ./hack/images import [--ctr CTR] ADDRESS [NAME...]
//	go run ./hack/images names
//
// Progress goes to stderr, so `IMAGES=$(go run ./hack/images build)` works.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/external-haproxy/kit/test/images"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	usage := fmt.Errorf("usage: images build | import [--ctr CTR] ADDRESS [NAME...] | names")
	if len(args) == 0 {
		return usage
	}
	switch args[0] {
	case "build":
		dir, err := images.Build(ctx, os.Stderr)
		if err != nil {
			return err
		}
		fmt.Println(dir)
	case "import":
		fs := flag.NewFlagSet("import", flag.ContinueOnError)
		ctr := fs.String("ctr", "ctr", "the ctr binary")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() < 1 {
			return usage
		}
		dir, err := images.Build(ctx, os.Stderr)
		if err != nil {
			return err
		}
		names := fs.Args()[1:]
		if len(names) == 0 {
			names = images.Names()
		}
		if err := images.Import(ctx, *ctr, fs.Arg(0), dir, names...); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "images: imported %s\n", strings.Join(names, " "))
	case "names":
		fmt.Println(strings.Join(images.Names(), "\n"))
	default:
		return usage
	}
	return nil
}
