package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/options"
	"github.com/external-haproxy/kit/controller/watch"
)

// checkCommand writes the report of every configuration key in use, from
// manifests (-f) or a live cluster (--kubeconfig, or in-cluster), as the
// controller with the same flags would read them: the migration report for
// a cluster configured for upstream haproxy-ingress. clean is false when a
// key would be ignored or is invalid.
func checkCommand(args []string, stdout io.Writer) (clean bool, err error) {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	o := options.Register(fs)
	var paths stringList
	fs.Var(&paths, "f", "manifest file or directory (repeatable); none: the cluster of --kubeconfig")
	format := fs.String("o", "text", "output format: text or json")
	if err := fs.Parse(args); err != nil {
		return false, err
	}
	if err := o.Validate(); err != nil {
		return false, err
	}
	if *format != "text" && *format != "json" {
		return false, fmt.Errorf("-o=%q: want text or json", *format)
	}
	var snap *model.Snapshot
	if len(paths) > 0 {
		snap, err = manifestSnapshot(o, paths)
	} else {
		snap, err = clusterSnapshot(o)
	}
	if err != nil {
		return false, err
	}
	uses := model.KeyUses(snap, baseModelOptions(o))
	clean = true
	for i := range uses {
		if uses[i].Object == model.ConfigMapRef && o.ConfigMap != "" {
			uses[i].Object.Namespace, uses[i].Object.Name, _ = options.SplitName(o.ConfigMap)
		}
		clean = clean && uses[i].Status == model.KeySupported
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if uses == nil {
			uses = []model.KeyUse{}
		}
		return clean, enc.Encode(uses)
	}
	return clean, writeKeyTable(stdout, uses)
}

// clusterSnapshot reads the cluster through the controller's own caches,
// so that it selects the same objects.
func clusterSnapshot(o *options.Options) (*model.Snapshot, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client config: %w", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	cmNS, cmName := "", ""
	if o.ConfigMap != "" {
		cmNS, cmName, _ = options.SplitName(o.ConfigMap)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := watch.New(watch.Config{Client: client, Namespace: o.WatchNamespace, ConfigMapNamespace: cmNS, ConfigMapName: cmName,
		Classes: selector(o), OnChange: func() {}})
	if err := w.Start(ctx, time.Minute); err != nil {
		return nil, err
	}
	snap := w.Snapshot()
	return &snap, nil
}

// maxValue is how much of a value the table shows.
const maxValue = 40

// writeKeyTable writes one line per key and a summary; keys, values and
// details come from the cluster and are quoted when they hold anything but
// printable characters (a newline or tab would break the table, a terminal
// escape or bidi control could disguise it).
func writeKeyTable(out io.Writer, uses []model.KeyUse) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OBJECT\tKEY\tVALUE\tSTATUS\tDETAIL")
	count := map[model.KeyStatus]int{}
	for _, u := range uses {
		count[u.Status]++
		v := u.Value
		if utf8.RuneCountInString(v) > maxValue {
			v = string([]rune(v)[:maxValue]) + "…"
		}
		if v == "" {
			v = `""`
		}
		detail := model.LogText(u.Detail)
		if detail == "" {
			detail = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Object, model.LogText(u.Key), model.LogText(v), u.Status, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "%d key(s): %d supported, %d ignored, %d invalid\n", len(uses), count[model.KeySupported], count[model.KeyIgnored], count[model.KeyInvalid])
	return err
}
