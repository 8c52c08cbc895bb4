// Command external-haproxy-fn is a KRM function that turns the haproxy-ingress
// workload into its external-haproxy form (and back). See README.md.
package main

import (
	"os"

	"github.com/external-haproxy/kit/fn/externalhaproxy"
)

func main() {
	cmd := externalhaproxy.Command()
	cmd.Use = "external-haproxy-fn [CONFIG [INPUT...|-]]"
	cmd.Short = "Turn the haproxy-ingress workload into the external-haproxy form"
	cmd.Long = `external-haproxy-fn is a KRM function. Its ExternalHaproxy config
(kit.external-haproxy.dev/v1alpha1) moves haproxy out of the haproxy-ingress controller
container into a sidecar driven through the master socket, adds the init container that
writes the placeholder config, and shares the config, state and run directories.
With spec.mode: embedded it undoes that.

Without arguments it reads a ResourceList on stdin (kustomize, kpt). With arguments the
first is the config file and the rest are input files ("-" reads stdin); documents it
does not change are written exactly as they were read.`
	cmd.Example = `  kustomize build --enable-alpha-plugins --enable-exec overlays/external-haproxy-fn
  external-haproxy-fn config.yaml base/daemonset.yaml
  kustomize build base | external-haproxy-fn config.yaml -`
	// A legacy kustomize exec plugin is run as "<binary> <config file>" with the
	// resources on stdin. Standalone mode only reads stdin for "-", so without this
	// every resource would silently be dropped.
	if os.Getenv("KUSTOMIZE_PLUGIN_CONFIG_ROOT") != "" && len(os.Args) == 2 {
		cmd.SetArgs([]string{os.Args[1], "-"})
	}
	if err := cmd.Execute(); err != nil {
		os.Exit(1) // the command has printed it
	}
}
