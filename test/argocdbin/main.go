// Command argocd is the Argo CD that the tests run, as one multi-call binary
// dispatched on its name like Argo CD's own cmd/main.go:
//
//	argocd-repo-server   Argo CD's repo-server command, unmodified
//	argocd-cmp-server    Argo CD's Config Management Plugin server command, unmodified
//	argocd-redis         a Redis stand-in for the repo-server's cache (miniredis), loopback only
//	argocd-generate      one GenerateManifest call through Argo CD's repo-server gRPC client,
//	                     with the request fields the application controller sends
//
// hack/argocd-bins.sh builds it and links the names. It is a separate module so
// that the product module never inherits Argo CD's dependencies and replace
// directives.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	cmpserver "github.com/argoproj/argo-cd/v3/cmd/argocd-cmp-server/commands"
	reposerver "github.com/argoproj/argo-cd/v3/cmd/argocd-repo-server/commands"
	"github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/reposerver/apiclient"
	"github.com/argoproj/argo-cd/v3/util/log"
)

func init() {
	// As Argo CD's cmd/main.go: klog through the configured logrus logger.
	klog.SetLogger(log.NewLogrusLogger(log.NewWithCurrentConfig()))
}

func main() {
	var command *cobra.Command
	switch name := filepath.Base(os.Args[0]); name {
	case "argocd-repo-server":
		command = reposerver.NewCommand()
	case "argocd-cmp-server":
		command = cmpserver.NewCommand()
		command.SilenceUsage = true // as cmd/main.go does
	case "argocd-redis":
		command = redisCommand()
	case "argocd-generate":
		command = generateCommand()
	default:
		fmt.Fprintf(os.Stderr, "%s: call me as argocd-repo-server, argocd-cmp-server, argocd-redis or argocd-generate\n", name)
		os.Exit(2)
	}
	if err := command.Execute(); err != nil {
		if command.SilenceErrors {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(1)
	}
}

func redisCommand() *cobra.Command {
	var address string
	c := &cobra.Command{
		Use:          "argocd-redis",
		Short:        "Serve an in-memory Redis stand-in (miniredis) on a loopback address until SIGTERM",
		SilenceUsage: true,
		RunE: func(*cobra.Command, []string) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("--address %s: only loopback IP addresses are served", address)
			}
			m := miniredis.NewMiniRedis()
			if err := m.StartAddr(address); err != nil {
				return err
			}
			defer m.Close()
			fmt.Println("redis stand-in listening on", m.Addr())
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
			<-sig
			return nil
		},
	}
	c.Flags().StringVar(&address, "address", "127.0.0.1:6379", "loopback host:port to listen on")
	return c
}

func generateCommand() *cobra.Command {
	var (
		server, repo, revision, path, plugin string
		app, namespace, buildOptions         string
		timeout                              time.Duration
	)
	c := &cobra.Command{
		Use:   "argocd-generate",
		Short: "Ask a repo-server for an Application's manifests (GenerateManifest) and print the response as JSON",
		Long: "Ask a repo-server for an Application's manifests (GenerateManifest) and print the response as JSON.\n" +
			"The request carries what the application controller sends for an Application with one\n" +
			"git source under a stock argocd-cm (annotation tracking, every source type enabled).\n" +
			"On error, prints the error the repo-server returned, which is the text the Application's\n" +
			"ComparisonError condition shows after \"Failed to load target state: failed to generate\n" +
			"manifest for source 1 of 1: \", and exits 1.",
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(*cobra.Command, []string) error {
			source := &v1alpha1.ApplicationSource{RepoURL: repo, Path: path, TargetRevision: revision}
			if plugin != "" {
				source.Plugin = &v1alpha1.ApplicationSourcePlugin{Name: plugin}
			}
			req := &apiclient.ManifestRequest{
				Repo:              &v1alpha1.Repository{Repo: repo},
				Revision:          revision,
				NoCache:           true,
				AppLabelKey:       "app.kubernetes.io/instance",
				AppName:           app,
				Namespace:         namespace,
				ApplicationSource: source,
				KustomizeOptions:  &v1alpha1.KustomizeOptions{BuildOptions: buildOptions},
				TrackingMethod:    string(v1alpha1.TrackingMethodAnnotation),
				EnabledSourceTypes: map[string]bool{
					string(v1alpha1.ApplicationSourceTypeKustomize): true,
					string(v1alpha1.ApplicationSourceTypeHelm):      true,
					string(v1alpha1.ApplicationSourceTypeDirectory): true,
					string(v1alpha1.ApplicationSourceTypePlugin):    true,
				},
				ProjectName:        "default",
				ProjectSourceRepos: []string{"*"},
			}
			closer, client, err := apiclient.NewRepoServerClientset(server, int(timeout.Seconds()), apiclient.TLSConfiguration{DisableTLS: true}).NewRepoServerClient()
			if err != nil {
				return err
			}
			defer closer.Close()
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			resp, err := client.GenerateManifest(ctx, req)
			if err != nil {
				return err
			}
			return json.NewEncoder(os.Stdout).Encode(resp)
		},
	}
	c.Flags().StringVar(&server, "server", "", "repo-server host:port (plaintext gRPC)")
	c.Flags().StringVar(&repo, "repo", "", "git repository URL (spec.source.repoURL)")
	c.Flags().StringVar(&revision, "revision", "HEAD", "spec.source.targetRevision")
	c.Flags().StringVar(&path, "path", ".", "spec.source.path")
	c.Flags().StringVar(&plugin, "plugin", "", "spec.source.plugin.name; empty: Argo CD detects the source type")
	c.Flags().StringVar(&app, "app", "haproxy-ingress", "Application name")
	c.Flags().StringVar(&namespace, "dest-namespace", "ingress-controller", "spec.destination.namespace")
	c.Flags().StringVar(&buildOptions, "kustomize-build-options", "", "argocd-cm kustomize.buildOptions (stock: empty)")
	c.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "deadline of the call")
	for _, f := range []string{"server", "repo"} {
		_ = c.MarkFlagRequired(f)
	}
	return c
}
