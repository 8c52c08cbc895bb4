package externalhaproxy

import (
	"fmt"
	"slices"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

const netBindService = "NET_BIND_SERVICE"

// BindPrivilege moves the privilege to bind :80 and :443 on the node with
// the binding: the base's embedded controller runs as root with
// NET_BIND_SERVICE (a non-root process gets no effective capability at exec:
// Kubernetes sets no ambient ones). In the external form the sidecar binds,
// so a controller in exactly that shape (runAsUser 0, NET_BIND_SERVICE
// added) becomes uid 99 without it (Binds false); back to the embedded form
// (Binds true), a controller in the shape this step left is root with
// NET_BIND_SERVICE again. Any other securityContext is the user's and stays.
type BindPrivilege struct {
	Container string
	Binds     bool
	Report    *Report
}

// Filter implements yaml.Filter.
func (b BindPrivilege) Filter(pod *yaml.RNode) (*yaml.RNode, error) {
	ctr := element(pod, containersList, b.Container)
	if ctr == nil {
		return nil, fmt.Errorf("container %q not found", b.Container)
	}
	sc := ctr.Field("securityContext")
	if sc == nil {
		return pod, nil
	}
	caps, err := sc.Value.Pipe(yaml.LookupCreate(yaml.MappingNode, "capabilities"))
	if err != nil {
		return nil, err
	}
	var added []string
	if add := caps.Field("add"); add != nil {
		for _, n := range add.Value.YNode().Content {
			added = append(added, n.Value)
		}
	}
	uid := scalar(sc.Value, "runAsUser")
	switch {
	case !b.Binds && uid == "0" && slices.Contains(added, netBindService):
		added = slices.DeleteFunc(added, func(c string) bool { return c == netBindService })
		if err := setUser(sc.Value, "99", "true"); err != nil {
			return nil, err
		}
		b.Report.note("set", "of "+b.Container+" (it no longer binds :80/:443)", "securityContext runAsUser 99 without "+netBindService)
	case b.Binds && uid == "99" && !slices.Contains(added, netBindService):
		added = append(added, netBindService)
		if err := setUser(sc.Value, "0", "false"); err != nil {
			return nil, err
		}
		b.Report.note("set", "of "+b.Container+" (its haproxy binds :80/:443)", "securityContext runAsUser 0 with "+netBindService)
	default:
		return pod, nil
	}
	if len(added) == 0 {
		return pod, caps.PipeE(yaml.Clear("add"))
	}
	list := yaml.NewListRNode(added...)
	if drop := caps.Field("drop"); drop != nil {
		list.YNode().Style = drop.Value.YNode().Style // [ALL] stays beside [NET_BIND_SERVICE]
	}
	return pod, caps.PipeE(yaml.SetField("add", list))
}

func setUser(sc *yaml.RNode, uid, nonRoot string) error {
	u := yaml.NewScalarRNode(uid)
	u.YNode().Tag = yaml.NodeTagInt
	if err := sc.PipeE(yaml.SetField("runAsUser", u)); err != nil {
		return err
	}
	n := yaml.NewScalarRNode(nonRoot)
	n.YNode().Tag = yaml.NodeTagBool
	return sc.PipeE(yaml.SetField("runAsNonRoot", n))
}
