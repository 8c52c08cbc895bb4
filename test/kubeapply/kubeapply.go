// Package kubeapply applies rendered manifests to a real apiserver with
// server-side apply — the same validation and admission as `kubectl apply
// --server-side` — optionally as a server-side dry run.
package kubeapply

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/yaml"
)

// Apply sends every object of a multi-document YAML stream, in order.
func Apply(ctx context.Context, cfg *rest.Config, manifests []byte, dryRun bool) error {
	return ApplyIf(ctx, cfg, manifests, dryRun, nil)
}

// ApplyIf is Apply for the objects of the kinds keep accepts (nil: all).
func ApplyIf(ctx context.Context, cfg *rest.Config, manifests []byte, dryRun bool, keep func(kind string) bool) error {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	nodes, err := kio.FromBytes(manifests)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if keep != nil && !keep(n.GetKind()) {
			continue
		}
		s, err := n.String()
		if err != nil {
			return err
		}
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(s), &obj.Object); err != nil {
			return err
		}
		gvk := obj.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return fmt.Errorf("%s %s: %w", gvk.Kind, obj.GetName(), err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ri = dyn.Resource(m.Resource).Namespace(obj.GetNamespace())
		}
		body, err := obj.MarshalJSON()
		if err != nil {
			return err
		}
		opts := metav1.PatchOptions{FieldManager: "external-haproxy-kit-tests", Force: ptr(true)}
		if dryRun {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		if _, err := ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, opts); err != nil {
			return fmt.Errorf("%s %s/%s: %w", gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
