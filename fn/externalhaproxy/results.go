package externalhaproxy

import (
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// resultsError carries error results out of Validate and Filter. It is deliberately not
// a framework.Results: ResourceList.Filter swallows those and the function would exit 0.
type resultsError struct{ results framework.Results }

func (e resultsError) Error() string { return e.results.Error() }

// Report collects what the steps did to one pod spec (for the info result) and what
// they found wrong with it. A nil *Report records nothing, so that a step also works
// on its own.
type Report struct {
	notes    []note
	Findings []Finding
	// movedFields are the container.field values a step moved in from another
	// container: SetFields does not call those "kept".
	movedFields map[string]bool
	// added are the containers added in this run: the changes to their fields go
	// without saying.
	added map[string]bool
}

// note is one change, "head items tail": notes with the same head and tail are
// merged, so that "kept the input's image of haproxy" and "kept the input's
// securityContext of haproxy" read as one.
type note struct {
	head, tail string
	items      []string
}

func (n note) String() string {
	parts := []string{n.head, strings.Join(n.items, ", ")}
	if n.tail != "" {
		parts = append(parts, n.tail)
	}
	return strings.Join(parts, " ")
}

// Finding is a warning or an error about one field of a pod spec.
type Finding struct {
	Severity framework.Severity
	// Field is the path below the pod spec, e.g. containers[name=haproxy].image.
	Field             string
	Message           string
	Current, Proposed any
}

// Notes are the changes recorded so far, in the order they were first made.
func (r *Report) Notes() []string {
	if r == nil {
		return nil
	}
	var ns []string
	for _, n := range r.notes {
		ns = append(ns, n.String())
	}
	return ns
}

func (r *Report) note(head, tail string, items ...string) {
	if r == nil {
		return
	}
	for i, n := range r.notes {
		if n.head == head && n.tail == tail {
			for _, it := range items {
				if !slices.Contains(n.items, it) {
					r.notes[i].items = append(r.notes[i].items, it)
				}
			}
			return
		}
	}
	r.notes = append(r.notes, note{head, tail, items})
}

func (r *Report) warn(field, format string, args ...any) {
	r.add(Finding{Severity: framework.Warning, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (r *Report) fail(field, format string, args ...any) {
	r.add(Finding{Severity: framework.Error, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (r *Report) add(f Finding) {
	if r != nil {
		r.Findings = append(r.Findings, f)
	}
}

// noteOn records a change to container, unless the container is new.
func (r *Report) noteOn(container, head, tail string, items ...string) {
	if r != nil && !r.added[container] {
		r.note(head, tail, items...)
	}
}

// addedContainer records that container was added.
func (r *Report) addedContainer(container, head, tail string, items ...string) {
	if r != nil {
		if r.added == nil {
			r.added = map[string]bool{}
		}
		r.added[container] = true
		r.note(head, tail, items...)
	}
}

func (r *Report) markMoved(container, field string) {
	if r != nil {
		if r.movedFields == nil {
			r.movedFields = map[string]bool{}
		}
		r.movedFields[container+"."+field] = true
	}
}

func (r *Report) moved(container, field string) bool {
	return r != nil && r.movedFields[container+"."+field]
}

func (r *Report) failed() bool {
	if r == nil {
		return false
	}
	for _, f := range r.Findings {
		if f.Severity == framework.Error {
			return true
		}
	}
	return false
}

// results turns the findings into results about item, and the notes into one info
// result when changed.
func (r *Report) results(item *yaml.RNode, mode Mode, changed bool) framework.Results {
	var rs framework.Results
	if changed && len(r.notes) > 0 {
		rs = append(rs, resultFor(item, framework.Info, podSpec,
			fmt.Sprintf("%s form: %s", mode, strings.Join(r.Notes(), "; "))))
	}
	for _, f := range r.Findings {
		res := resultFor(item, f.Severity, podSpec+"."+f.Field, f.Message)
		res.Field.CurrentValue, res.Field.ProposedValue = f.Current, f.Proposed
		rs = append(rs, res)
	}
	return rs
}

const podSpec = "spec.template.spec"

// resultFor is a result about a field of item.
func resultFor(item *yaml.RNode, severity framework.Severity, field, msg string) *framework.Result {
	r := &framework.Result{
		Severity: severity,
		Message:  msg,
		ResourceRef: &yaml.ResourceIdentifier{
			TypeMeta: yaml.TypeMeta{APIVersion: item.GetApiVersion(), Kind: item.GetKind()},
			NameMeta: yaml.NameMeta{Name: item.GetName(), Namespace: item.GetNamespace()},
		},
		Field: &framework.Field{Path: field},
	}
	if p, i, err := kioutil.GetFileAnnotations(item); err == nil && p != "" {
		r.File = &framework.File{Path: p}
		fmt.Sscan(i, &r.File.Index)
	}
	return r
}
