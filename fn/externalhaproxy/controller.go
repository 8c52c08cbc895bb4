package externalhaproxy

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/external-haproxy/kit/internal/podlayout"
)

const (
	masterSocketFlag = "--" + podlayout.MasterSocketFlag
	healthzAddrFlag  = "--" + podlayout.HealthzAddrFlag
	initFlag         = "--" + podlayout.InitFlag
)

// MasterSocketArg points the controller at the master socket: the value of an
// existing --master-socket flag (either "--master-socket=x" or "--master-socket x")
// is replaced in place, else "--master-socket=Socket" is appended; other args stay.
// An empty Socket removes every --master-socket flag instead (the embedded form).
type MasterSocketArg struct {
	Container, Socket string
	Report            *Report
}

// Filter implements yaml.Filter.
func (m MasterSocketArg) Filter(pod *yaml.RNode) (*yaml.RNode, error) {
	ctr := element(pod, containersList, m.Container)
	if ctr == nil {
		return nil, fmt.Errorf("container %q not found", m.Container)
	}
	if m.Socket == "" {
		return pod, m.remove(ctr)
	}
	args, err := ctr.Pipe(yaml.LookupCreate(yaml.SequenceNode, "args"))
	if err != nil {
		return nil, err
	}
	want := masterSocketFlag + "=" + m.Socket
	seq := args.YNode()
	for i, n := range seq.Content {
		if n.Value != masterSocketFlag && !strings.HasPrefix(n.Value, masterSocketFlag+"=") {
			continue
		}
		was := n.Value
		if n.Value == masterSocketFlag && i+1 < len(seq.Content) {
			was += " " + seq.Content[i+1].Value
			seq.Content = slices.Delete(seq.Content, i+1, i+2)
		}
		if was != want {
			m.Report.note("set", fmt.Sprintf("of %s (was %s)", m.Container, was), want)
			n.Value = want
		}
		return pod, nil
	}
	m.Report.note("added", "to "+m.Container, want)
	return pod, args.PipeE(yaml.Append(yaml.NewScalarRNode(want).YNode()))
}

func (m MasterSocketArg) remove(ctr *yaml.RNode) error {
	f := ctr.Field("args")
	if f == nil {
		return nil
	}
	seq := f.Value.YNode()
	for i := 0; i < len(seq.Content); {
		switch v := seq.Content[i].Value; {
		case v == masterSocketFlag:
			seq.Content = slices.Delete(seq.Content, i, min(i+2, len(seq.Content)))
		case strings.HasPrefix(v, masterSocketFlag+"="):
			seq.Content = slices.Delete(seq.Content, i, i+1)
		default:
			i++
			continue
		}
		m.Report.note("removed", "from "+m.Container, masterSocketFlag)
	}
	if len(seq.Content) == 0 {
		return ctr.PipeE(yaml.Clear("args"))
	}
	return nil
}

// controllerPort is the port the controller serves itself: that of its
// --healthz-addr flag, else the default. Every other port of the pod is haproxy's.
func controllerPort(controller *yaml.RNode) int {
	args := stringValues(controller, "args")
	for i, a := range args {
		addr, ok := strings.CutPrefix(a, healthzAddrFlag+"=")
		if !ok && a == healthzAddrFlag && i+1 < len(args) {
			addr, ok = args[i+1], true
		}
		if !ok {
			continue
		}
		if _, port, err := net.SplitHostPort(addr); err == nil {
			if n, err := strconv.Atoi(port); err == nil {
				return n
			}
		}
	}
	return podlayout.ControllerPort
}
