package externalhaproxy

import (
	"fmt"
	"slices"
	"strconv"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// MovePorts moves the ports of container From to container To (either in either
// list), except those with containerPort Keep (0 keeps none): in the external form
// haproxy serves every port of the pod but the controller's own. A port To already
// has, by name or by number, is not repeated: From's is dropped. Front puts the
// moved ports before To's own, else after. Without From, there is nothing to move.
type MovePorts struct {
	From, To string
	Keep     int
	Front    bool
	Report   *Report
}

// Filter implements yaml.Filter.
func (m MovePorts) Filter(pod *yaml.RNode) (*yaml.RNode, error) {
	from, to, err := pair(pod, m.From, m.To)
	if err != nil || from == nil {
		return pod, err
	}
	ports, have := elements(from, "ports"), elements(to, "ports")
	var kept, moved []*yaml.Node
	var movedNames, dropped []string
	for _, p := range ports {
		name, number := portOf(p)
		switch {
		case m.Keep != 0 && number == m.Keep:
			kept = append(kept, p)
		case slices.ContainsFunc(slices.Concat(have, moved), func(q *yaml.Node) bool {
			n, num := portOf(q)
			return name != "" && n == name || number != 0 && num == number
		}):
			dropped = append(dropped, portLabel(name, number))
		default:
			moved = append(moved, p)
			movedNames = append(movedNames, portLabel(name, number))
		}
	}
	if len(kept) == len(ports) {
		return pod, nil
	}
	if len(moved) > 0 {
		dst, err := to.Pipe(yaml.LookupCreate(yaml.SequenceNode, "ports"))
		if err != nil {
			return nil, err
		}
		if m.Front {
			dst.YNode().Content = slices.Concat(moved, dst.YNode().Content)
		} else {
			dst.YNode().Content = slices.Concat(dst.YNode().Content, moved)
		}
	}
	if from.Field("ports").Value.YNode().Content = kept; len(kept) == 0 {
		if err := from.PipeE(yaml.Clear("ports")); err != nil {
			return nil, err
		}
	}
	if len(movedNames) > 0 {
		m.Report.note("moved ports", fmt.Sprintf("from %s to %s", m.From, m.To), movedNames...)
	}
	if len(dropped) > 0 {
		m.Report.note("dropped ports", fmt.Sprintf("of %s, which %s has", m.From, m.To), dropped...)
	}
	return pod, nil
}

// pair finds the two containers of a move; without from there is nothing to do, a
// missing to is an error.
func pair(pod *yaml.RNode, from, to string) (*yaml.RNode, *yaml.RNode, error) {
	f, _ := findContainer(pod, from)
	if f == nil {
		return nil, nil, nil
	}
	t, _, err := requireContainer(pod, to)
	return f, t, err
}

func portOf(p *yaml.Node) (name string, number int) {
	if v := value(p, "containerPort"); v != nil {
		number, _ = strconv.Atoi(v.Value)
	}
	if v := value(p, "name"); v != nil {
		name = v.Value
	}
	return name, number
}

func portLabel(name string, number int) string {
	if name != "" {
		return name
	}
	return strconv.Itoa(number)
}

// probeFields in the order Kubernetes documents them; moved probes keep it.
var probeFields = []string{"livenessProbe", "readinessProbe", "startupProbe"}

// MoveProbes moves the probes of container From to container To, except those on
// port Keep (0 keeps none) and, with Keep set, those on no port (exec): in the
// external form a probe of a haproxy port belongs to haproxy. A probe To already
// has wins; From's is dropped. Named ports are looked up in both containers, so
// MovePorts may run first.
type MoveProbes struct {
	From, To string
	Keep     int
	Report   *Report
}

// Filter implements yaml.Filter.
func (m MoveProbes) Filter(pod *yaml.RNode) (*yaml.RNode, error) {
	from, to, err := pair(pod, m.From, m.To)
	if err != nil || from == nil {
		return pod, err
	}
	for i, name := range probeFields {
		f := from.Field(name)
		if f == nil {
			continue
		}
		if m.Keep != 0 {
			if port := probePort(f.Value, from, to); port == 0 || port == m.Keep {
				continue
			}
		}
		takeField(from, name)
		if to.Field(name) != nil {
			m.Report.note("dropped", fmt.Sprintf("of %s, which %s has", m.From, m.To), name)
			continue
		}
		insertField(to, f, probeFields[i+1:]...)
		m.Report.markMoved(m.To, name)
		m.Report.note("moved", fmt.Sprintf("from %s to %s", m.From, m.To), name)
	}
	return pod, nil
}

// probePort is the port number a probe targets, 0 for none (exec) or an unknown name.
func probePort(probe *yaml.RNode, containers ...*yaml.RNode) int {
	for _, handler := range []string{"httpGet", "tcpSocket", "grpc"} {
		port, err := probe.Pipe(yaml.Lookup(handler, "port"))
		if err != nil || port == nil {
			continue
		}
		v := yaml.GetValue(port)
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		for _, c := range containers {
			if p := element(c, "ports", v); p != nil {
				_, n := portOf(p.YNode())
				return n
			}
		}
	}
	return 0
}
