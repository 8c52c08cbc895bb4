package externalhaproxy

import (
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// PlaceSidecar makes sure the haproxy container Name is in the list Native chooses:
// initContainers with restartPolicy: Always (a native sidecar), or containers. It
// creates it, or moves it from the other list. A native sidecar comes after the init
// container After ("" for none), which writes the placeholder config haproxy starts
// with. A container already in the right place stays where it is, so that reruns do
// not reorder the pod.
type PlaceSidecar struct {
	Name   string
	Native bool
	After  string
	Report *Report
}

// Filter implements yaml.Filter.
func (p PlaceSidecar) Filter(pod *yaml.RNode) (*yaml.RNode, error) {
	home, away := containersList, initContainersList
	if p.Native {
		home, away = away, home
	}
	list, err := pod.Pipe(yaml.LookupCreate(yaml.SequenceNode, home))
	if err != nil {
		return nil, err
	}
	seq := list.YNode()
	indexOf := func(name string) int {
		return slices.IndexFunc(seq.Content, func(e *yaml.Node) bool { return scalar(yaml.NewRNode(e), "name") == name })
	}
	after := -1
	if p.Native && p.After != "" {
		after = indexOf(p.After)
	}
	ctr := (*yaml.RNode)(nil)
	if at := indexOf(p.Name); at > after {
		ctr = yaml.NewRNode(seq.Content[at])
	} else {
		existing, _ := findContainer(pod, p.Name)
		switch {
		case existing == nil:
			existing = yaml.NewMapRNode(&map[string]string{"name": p.Name})
			p.Report.addedContainer(p.Name, "added container", "to "+home, p.Name)
		case at < 0:
			p.Report.note("moved container", "to "+home, p.Name)
		}
		if _, err := removeElement(pod, away, p.Name); err != nil {
			return nil, err
		}
		if err := list.PipeE(yaml.ElementSetter{Keys: []string{"name"}, Values: []string{p.Name}}); err != nil {
			return nil, err
		}
		at := len(seq.Content)
		if p.Native {
			at = indexOf(p.After) + 1 // 0 without an init container
		}
		seq.Content = slices.Insert(seq.Content, at, existing.YNode())
		ctr = existing
	}
	if _, err := removeElement(pod, away, p.Name); err != nil {
		return nil, err
	}
	if p.Native {
		return pod, ctr.PipeE(yaml.SetField("restartPolicy", yaml.NewStringRNode("Always")))
	}
	return pod, ctr.PipeE(yaml.Clear("restartPolicy"))
}

// HaproxyArgs gives the haproxy Container the args the external form depends on,
// first and in this order: -W, -S Socket,SocketOptions and -f ConfigDir. An -S on
// Socket keeps its own options (uid, gid, mode); the other args (say extra -f files,
// -d) stay, after them.
type HaproxyArgs struct {
	Container, Socket, SocketOptions, ConfigDir string
	Report                                      *Report
}

// Filter implements yaml.Filter.
func (h HaproxyArgs) Filter(pod *yaml.RNode) (*yaml.RNode, error) {
	ctr, _, err := requireContainer(pod, h.Container)
	if err != nil {
		return nil, err
	}
	old := stringValues(ctr, "args")
	socket := h.Socket + "," + h.SocketOptions
	var extra []string
	var w, s, f bool
	for i := 0; i < len(old); i++ {
		switch a := old[i]; {
		case a == "-W" && !w:
			w = true
		case a == "-S" && !s && i+1 < len(old):
			s, i = true, i+1
			if path, _, _ := strings.Cut(old[i], ","); path == h.Socket {
				socket = old[i]
			}
		case a == "-f" && !f && i+1 < len(old) && old[i+1] == h.ConfigDir:
			f, i = true, i+1
		default:
			extra = append(extra, a)
		}
	}
	want := append([]string{"-W", "-S", socket, "-f", h.ConfigDir}, extra...)
	if slices.Equal(old, want) {
		return pod, nil
	}
	if len(extra) > 0 {
		h.Report.noteOn(h.Container, "set the args of", "keeping "+strings.Join(extra, " "), h.Container)
	} else {
		h.Report.noteOn(h.Container, "set the args of", "", h.Container)
	}
	return pod, ctr.PipeE(yaml.SetField("args", yaml.NewListRNode(want...)))
}

// RemoveContainer deletes container Name from both lists.
type RemoveContainer struct {
	Name   string
	Report *Report
}

// Filter implements yaml.Filter.
func (r RemoveContainer) Filter(pod *yaml.RNode) (*yaml.RNode, error) {
	for _, list := range []string{containersList, initContainersList} {
		removed, err := removeElement(pod, list, r.Name)
		if err != nil {
			return nil, err
		}
		if removed {
			r.Report.note("removed container", "from "+list, r.Name)
		}
	}
	return pod, nil
}
