package externalhaproxy

import (
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
	k8syaml "sigs.k8s.io/yaml"
)

// Generic helpers on pod spec nodes, shared by the steps.

// The two lists a container can be in; a native sidecar is in initContainers.
const (
	containersList     = "containers"
	initContainersList = "initContainers"
)

// findContainer returns the container named name from containers, else from
// initContainers, with the list it is in; nil when there is none.
func findContainer(pod *yaml.RNode, name string) (*yaml.RNode, string) {
	for _, list := range []string{containersList, initContainersList} {
		if c := element(pod, list, name); c != nil {
			return c, list
		}
	}
	return nil, ""
}

// requireContainer is findContainer for a step that needs the container.
func requireContainer(pod *yaml.RNode, name string) (*yaml.RNode, string, error) {
	c, list := findContainer(pod, name)
	if c == nil {
		return nil, "", fmt.Errorf("container %q not found", name)
	}
	return c, list, nil
}

// element is the element named name of the pod spec list, or nil.
func element(pod *yaml.RNode, list, name string) *yaml.RNode {
	for _, n := range elements(pod, list) {
		if v := value(n, "name"); v != nil && v.Value == name {
			return yaml.NewRNode(n)
		}
	}
	return nil
}

// elements are the elements of a sequence field, or nil.
func elements(node *yaml.RNode, field string) []*yaml.Node {
	if v := value(node.YNode(), field); v != nil && v.Kind == yaml.SequenceNode {
		return v.Content
	}
	return nil
}

// value is the value node of a mapping's field, or nil. A plain loop: the steps
// look fields up all the time, and RNode.Field and Element allocate.
func value(mapping *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		if mapping.Content[i].Value == key {
			return mapping.Content[i+1]
		}
	}
	return nil
}

// containerField is the path of a container's field below the pod spec, the form
// results use: containers[name=haproxy].image.
func containerField(list, name, field string) string {
	p := fmt.Sprintf("%s[name=%s]", list, name)
	if field != "" {
		p += "." + field
	}
	return p
}

// removeElement deletes the element named name from a pod spec list, and the list
// itself when it becomes empty. It reports whether there was one.
func removeElement(pod *yaml.RNode, list, name string) (bool, error) {
	if element(pod, list, name) == nil {
		return false, nil
	}
	f := pod.Field(list)
	if err := f.Value.PipeE(yaml.ElementSetter{Keys: []string{"name"}, Values: []string{name}}); err != nil {
		return false, err
	}
	if len(f.Value.YNode().Content) == 0 {
		return true, pod.PipeE(yaml.Clear(list))
	}
	return true, nil
}

// takeField removes a field from a map node and returns it, key node included, so
// that its comments travel with it.
func takeField(node *yaml.RNode, name string) *yaml.MapNode {
	f := node.Field(name)
	if f == nil {
		return nil
	}
	_, _ = node.Pipe(yaml.Clear(name))
	return f
}

// insertField adds f to node before the first of the fields named in before that
// node has, or at the end.
func insertField(node *yaml.RNode, f *yaml.MapNode, before ...string) {
	content := node.YNode().Content
	at := len(content)
	for i := 0; i+1 < len(content); i += 2 {
		if slices.Contains(before, content[i].Value) {
			at = i
			break
		}
	}
	node.YNode().Content = slices.Insert(content, at, f.Key.YNode(), f.Value.YNode())
}

// stringValues are the scalar values of a sequence field, or nil.
func stringValues(node *yaml.RNode, field string) []string {
	var vs []string
	for _, n := range elements(node, field) {
		vs = append(vs, n.Value)
	}
	return vs
}

// scalar is the value of a scalar field, or "".
func scalar(node *yaml.RNode, field string) string {
	if v := value(node.YNode(), field); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// mapNode builds a mapping with the given fields, in order. Values that parse as
// integers are tagged !!int (ports). Cheaper than parsing YAML once per workload.
func mapNode(kv ...string) *yaml.RNode {
	n := yaml.NewMapRNode(nil)
	for i := 0; i+1 < len(kv); i += 2 {
		v := yaml.NewStringRNode(kv[i+1])
		if kv[i+1] != "" && strings.Trim(kv[i+1], "0123456789") == "" {
			v = yaml.NewScalarRNode(kv[i+1])
			v.YNode().Tag = yaml.NodeTagInt
		}
		n.YNode().Content = append(n.YNode().Content, yaml.NewScalarRNode(kv[i]).YNode(), v.YNode())
	}
	return n
}

// toNode renders a typed value (a k8s.io/api type) as a node.
func toNode(v any) (*yaml.RNode, error) {
	b, err := k8syaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	return yaml.Parse(string(b))
}

// sameNode reports whether two node trees would be written out the same, comments
// included. It is how the filter tells an unchanged workload, without serializing.
func sameNode(a, b *yaml.Node) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Kind != b.Kind || a.Tag != b.Tag || a.Value != b.Value || a.Style != b.Style ||
		a.HeadComment != b.HeadComment || a.LineComment != b.LineComment || a.FootComment != b.FootComment ||
		a.Anchor != b.Anchor || len(a.Content) != len(b.Content) {
		return false
	}
	for i := range a.Content {
		if !sameNode(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}
