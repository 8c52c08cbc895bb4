package externalhaproxy

import (
	"encoding/json"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Field is a field of the haproxy or init container that the config can set.
type Field struct {
	Name    string      // the container's field, e.g. image
	Setting string      // the config field that sets it, e.g. spec.haproxy.image
	Default *yaml.RNode // added when neither the config nor the container has one; nil adds nothing

	explicit     any // the config's typed value, nil when unset
	explicitNode *yaml.RNode
}

// ExplicitField is the Field for a config value: explicit is a pointer to the typed
// value (*string, *corev1.Probe...), nil when the config does not set it.
func ExplicitField(name, setting string, explicit any) (Field, error) {
	f := Field{Name: name, Setting: setting}
	if v := reflect.ValueOf(explicit); explicit == nil || v.Kind() == reflect.Pointer && v.IsNil() {
		return f, nil
	}
	n, err := toNode(explicit)
	if err != nil {
		return f, err
	}
	f.explicit, f.explicitNode = explicit, n
	return f, nil
}

// sameAs reports whether node holds the explicit value, compared as the typed value
// (so that cpu 0.1 equals 100m).
func (f Field) sameAs(node *yaml.RNode) bool {
	j, err := node.MarshalJSON()
	if err != nil {
		return false
	}
	got := reflect.New(reflect.TypeOf(f.explicit).Elem())
	if json.Unmarshal(j, got.Interface()) != nil {
		return false
	}
	return equality.Semantic.DeepEqual(got.Interface(), f.explicit)
}

// SetFields sets Fields of Container (in either list): the config's value when it
// sets one, and then a different value in the input is reported as a warning
// naming the container and field; else the input's value stays; else the default
// is added. A default never replaces what the input has.
type SetFields struct {
	Container string
	Fields    []Field
	Report    *Report
}

// Filter implements yaml.Filter.
func (s SetFields) Filter(pod *yaml.RNode) (*yaml.RNode, error) {
	ctr, list, err := requireContainer(pod, s.Container)
	if err != nil {
		return nil, err
	}
	var kept, added []string
	for _, f := range s.Fields {
		cur := ctr.Field(f.Name)
		set := (*yaml.RNode)(nil)
		switch {
		case f.explicitNode != nil && cur != nil && f.sameAs(cur.Value):
		case f.explicitNode != nil:
			if cur != nil {
				s.conflict(list, f, cur.Value)
			}
			set = f.explicitNode
		case cur != nil:
			if !s.Report.moved(s.Container, f.Name) {
				kept = append(kept, f.Name)
			}
		case f.Default != nil:
			set = f.Default
			added = append(added, f.Name)
		}
		if set != nil {
			if err := ctr.PipeE(yaml.SetField(f.Name, set.Copy())); err != nil {
				return nil, err
			}
		}
	}
	if len(added) > 0 {
		s.Report.noteOn(s.Container, "added", "to "+s.Container, added...)
	}
	if len(kept) > 0 {
		s.Report.note("kept the input's", "of "+s.Container, kept...)
	}
	return pod, nil
}

func (s SetFields) conflict(list string, f Field, cur *yaml.RNode) {
	msg := fmt.Sprintf("%s replaces the input's %s of container %s", f.Setting, f.Name, s.Container)
	if cur.YNode().Kind == yaml.ScalarNode {
		msg = fmt.Sprintf("%s %q replaces the input's %s %q of container %s",
			f.Setting, f.explicitNode.YNode().Value, f.Name, cur.YNode().Value, s.Container)
	}
	s.Report.add(Finding{Severity: framework.Warning, Field: containerField(list, s.Container, f.Name),
		Message: msg, Current: plain(cur), Proposed: plain(f.explicitNode)})
}

// plain is a node as a value for a result's currentValue/proposedValue.
func plain(n *yaml.RNode) any {
	if n.YNode().Kind == yaml.ScalarNode {
		return n.YNode().Value
	}
	var v any
	if n.YNode().Decode(&v) != nil {
		return nil
	}
	return v
}

// PinnedImage is the one pinning rule, for every image the function leaves in the
// haproxy and init containers wherever it came from (config, default, the
// controller's image, the input): an image without a digest or a tag other than
// latest gets a warning that names Setting. A warning and not an error because a
// kustomize images: entry that runs after the function (in the overlay that
// includes its Component) may still pin it.
type PinnedImage struct {
	Container, Setting string
	Report             *Report
}

// Filter implements yaml.Filter.
func (p PinnedImage) Filter(pod *yaml.RNode) (*yaml.RNode, error) {
	ctr, list, err := requireContainer(pod, p.Container)
	if err != nil {
		return nil, err
	}
	image := scalar(ctr, "image")
	if why := unpinned(image); why != "" {
		p.Report.warn(containerField(list, p.Container, "image"),
			"image %q of container %s %s: pin it with %s or a kustomize images: entry", image, p.Container, why, p.Setting)
	}
	return pod, nil
}
