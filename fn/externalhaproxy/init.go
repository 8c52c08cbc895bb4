package externalhaproxy

import (
	"slices"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// PlaceInit makes sure the init container Name exists in initContainers, appending
// it when it does not.
type PlaceInit struct {
	Name   string
	Report *Report
}

// Filter implements yaml.Filter.
func (p PlaceInit) Filter(pod *yaml.RNode) (*yaml.RNode, error) {
	if element(pod, initContainersList, p.Name) != nil {
		return pod, nil
	}
	list, err := pod.Pipe(yaml.LookupCreate(yaml.SequenceNode, initContainersList))
	if err != nil {
		return nil, err
	}
	p.Report.addedContainer(p.Name, "added init container", "", p.Name)
	return pod, list.PipeE(yaml.Append(yaml.NewMapRNode(&map[string]string{"name": p.Name}).YNode()))
}

// InitArgs makes sure the init Container runs the controller's --init, which writes
// the placeholder haproxy.cfg; other args stay.
type InitArgs struct {
	Container string
	Report    *Report
}

// Filter implements yaml.Filter.
func (i InitArgs) Filter(pod *yaml.RNode) (*yaml.RNode, error) {
	ctr := element(pod, initContainersList, i.Container)
	if ctr == nil || runsInit(ctr) {
		return pod, nil
	}
	args, err := ctr.Pipe(yaml.LookupCreate(yaml.SequenceNode, "args"))
	if err != nil {
		return nil, err
	}
	i.Report.noteOn(i.Container, "added", "to "+i.Container, initFlag)
	return pod, args.PipeE(yaml.Append(yaml.NewScalarRNode(initFlag).YNode()))
}

// runsInit tells upstream's init containers: whatever their name, they run the
// controller image with --init.
func runsInit(ctr *yaml.RNode) bool { return slices.Contains(stringValues(ctr, "args"), initFlag) }

// AdoptInit converges upstream's init containers on Name: one that runs --init
// under another name (upstream's v0.12 example patch calls it init) is renamed to
// Name, keeping all its fields, or removed when Name exists as well. The chart's is
// already called haproxy-ingress-init.
type AdoptInit struct {
	Name   string
	Report *Report
}

// Filter implements yaml.Filter.
func (a AdoptInit) Filter(pod *yaml.RNode) (*yaml.RNode, error) {
	for _, other := range upstreamInits(pod, a.Name) {
		if element(pod, initContainersList, a.Name) != nil {
			if _, err := removeElement(pod, initContainersList, other); err != nil {
				return nil, err
			}
			a.Report.note("removed init container", "which "+a.Name+" replaces", other)
			continue
		}
		ctr := element(pod, initContainersList, other)
		if err := ctr.PipeE(yaml.SetField("name", yaml.NewStringRNode(a.Name))); err != nil {
			return nil, err
		}
		a.Report.note("renamed init container", "to "+a.Name, other)
	}
	return pod, nil
}

// RemoveInit deletes the init container Name and every other one running --init:
// the embedded form has none.
type RemoveInit struct {
	Name   string
	Report *Report
}

// Filter implements yaml.Filter.
func (r RemoveInit) Filter(pod *yaml.RNode) (*yaml.RNode, error) {
	for _, name := range append(upstreamInits(pod, r.Name), r.Name) {
		removed, err := removeElement(pod, initContainersList, name)
		if err != nil {
			return nil, err
		}
		if removed {
			r.Report.note("removed init container", "", name)
		}
	}
	return pod, nil
}

// upstreamInits are the names of the init containers other than name that run --init.
func upstreamInits(pod *yaml.RNode, name string) []string {
	var names []string
	for _, n := range elements(pod, initContainersList) {
		c := yaml.NewRNode(n)
		if other := scalar(c, "name"); other != name && runsInit(c) {
			names = append(names, other)
		}
	}
	return names
}
