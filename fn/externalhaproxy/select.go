package externalhaproxy

import (
	"fmt"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/kio/filters"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Select keeps the target workloads: apps/v1 DaemonSets and Deployments, not marked
// local config (kpt's Kptfile and function config), matching Kind, Name and Selector
// (empty matches all) and having the Controller container.
//
// Without Name or Selector, "has the controller container" is what makes a workload
// a haproxy-ingress one, and others are left alone; with them, a match without the
// container is an error. So is selecting nothing at all.
type Select struct {
	Kind, Name string
	Selector   labels.Selector // nil: any labels
	Controller string
}

var _ kio.Filter = Select{}

// Filter returns the targets; its error carries error results.
func (s Select) Filter(items []*yaml.RNode) ([]*yaml.RNode, error) {
	explicit := s.Name != "" || s.Selector != nil
	var rs framework.Results
	var targets []*yaml.RNode
	for _, item := range items {
		if !s.candidate(item) {
			continue
		}
		pod, err := item.Pipe(yaml.Lookup("spec", "template", "spec"))
		if err != nil || pod == nil {
			rs = append(rs, resultFor(item, framework.Error, podSpec, "workload has no pod template spec"))
			continue
		}
		if element(pod, containersList, s.Controller) == nil {
			if explicit {
				rs = append(rs, resultFor(item, framework.Error, podSpec+"."+containerField(containersList, s.Controller, ""),
					fmt.Sprintf("controller container %q not found", s.Controller)))
			}
			continue
		}
		targets = append(targets, item)
	}
	if len(rs) == 0 && len(targets) == 0 {
		rs = append(rs, &framework.Result{
			Severity: framework.Error,
			Message:  "no workload matched spec.target " + s.describe(),
			Field:    &framework.Field{Path: "spec.target"},
		})
	}
	if len(rs) > 0 {
		return nil, resultsError{rs}
	}
	return targets, nil
}

// candidate says whether item is a workload Select looks into.
func (s Select) candidate(item *yaml.RNode) bool {
	kind := item.GetKind()
	if kind != "DaemonSet" && kind != "Deployment" || item.GetApiVersion() != "apps/v1" {
		return false // also excludes Kptfile and the function config itself
	}
	if item.GetAnnotations()[filters.LocalConfigAnnotation] == "true" {
		return false
	}
	return (s.Kind == "" || s.Kind == kind) &&
		(s.Name == "" || s.Name == item.GetName()) &&
		(s.Selector == nil || s.Selector.Matches(labels.Set(item.GetLabels())))
}

func (s Select) describe() string {
	kind := s.Kind
	if kind == "" {
		kind = "DaemonSet/Deployment"
	}
	d := fmt.Sprintf("(kind %s with container %q", kind, s.Controller)
	if s.Name != "" {
		d += fmt.Sprintf(", name %q", s.Name)
	}
	if s.Selector != nil {
		d += fmt.Sprintf(", selector %q", s.Selector.String())
	}
	return d + ")"
}
