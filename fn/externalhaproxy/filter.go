package externalhaproxy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/kio/filters"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	k8syaml "sigs.k8s.io/yaml"
)

var _ kio.Filter = &ExternalHaproxy{}

// resultsError carries error results out of Validate and Filter. It is deliberately not
// a framework.Results: ResourceList.Filter swallows those and the function would exit 0.
type resultsError struct{ results framework.Results }

func (e resultsError) Error() string { return e.results.Error() }

const masterSocketFlag = "--master-socket"

// haproxyPortNames are the ports served by haproxy rather than by the controller: in
// external mode they move from the controller container to the sidecar, and back in
// embedded mode. Their defaults apply when the controller does not declare them.
var haproxyPortNames = []string{"http", "https", "stat"}

var defaultPorts = map[string]int{"http": 80, "https": 443, "stat": 1936, "healthz": healthzPort}

// mount is one of the three shared directories as seen by a container.
type mount struct {
	volume, subPath, mountPath string
}

// Filter transforms every target workload. It validates all of them before changing any,
// and on error returns the input items unchanged together with the error results.
func (c *ExternalHaproxy) Filter(items []*yaml.RNode) ([]*yaml.RNode, error) {
	explicit := c.Spec.Target.Name != "" || c.Spec.Target.Selector != nil
	var selector labels.Selector = labels.Everything()
	if c.Spec.Target.Selector != nil {
		var err error
		if selector, err = metav1.LabelSelectorAsSelector(c.Spec.Target.Selector); err != nil {
			return items, err // already rejected by Validate
		}
	}

	var rs framework.Results
	var targets []int
	for i, item := range items {
		if !c.selects(item, selector) {
			continue
		}
		pod, err := item.Pipe(yaml.Lookup("spec", "template", "spec"))
		if err != nil || pod == nil {
			rs = append(rs, resultFor(item, "spec.template.spec", "workload has no pod template spec"))
			continue
		}
		containers := pod.Field("containers")
		if containers == nil || containers.Value.Element("name", c.Spec.Controller.ContainerName) == nil {
			// Without an explicit target, "has the controller container" is what makes a
			// DaemonSet/Deployment a haproxy-ingress workload; other workloads are left alone.
			if explicit {
				rs = append(rs, resultFor(item, c.containerField("containers", c.Spec.Controller.ContainerName),
					fmt.Sprintf("controller container %q not found", c.Spec.Controller.ContainerName)))
			}
			continue
		}
		if c.Spec.Mode == ModeExternal {
			rs = append(rs, c.checkExternal(item, pod)...)
		}
		targets = append(targets, i)
	}
	if len(rs) == 0 && len(targets) == 0 {
		rs = append(rs, &framework.Result{
			Severity: framework.Error,
			Message:  "no workload matched spec.target " + c.describeTarget(),
			Field:    &framework.Field{Path: "spec.target"},
		})
	}
	if len(rs) > 0 {
		return items, resultsError{rs}
	}

	n, err := c.nodes()
	if err != nil {
		return items, err
	}
	// Edit copies of the pod specs and swap them in only once every workload succeeded,
	// so that an unexpected structure (e.g. args given as a string) cannot leave some
	// items half-edited.
	type edit struct{ template, pod *yaml.RNode }
	edits := make([]edit, 0, len(targets))
	for _, i := range targets {
		template, err := items[i].Pipe(yaml.Lookup("spec", "template"))
		if err != nil {
			return items, err // checked above: the pod spec exists
		}
		pod := template.Field("spec").Value.Copy()
		if c.Spec.Mode == ModeExternal {
			err = c.toExternal(pod, n)
		} else {
			err = c.toEmbedded(pod)
		}
		if err != nil {
			rs = append(rs, resultFor(items[i], "spec.template.spec", err.Error()))
			continue
		}
		edits = append(edits, edit{template, pod})
	}
	if len(rs) > 0 {
		return items, resultsError{rs}
	}
	for _, e := range edits {
		if err := e.template.PipeE(yaml.SetField("spec", e.pod)); err != nil {
			return items, err
		}
	}
	return items, nil
}

func (c *ExternalHaproxy) describeTarget() string {
	t := c.Spec.Target
	kind := t.Kind
	if kind == "" {
		kind = "DaemonSet/Deployment"
	}
	s := fmt.Sprintf("(kind %s with container %q", kind, c.Spec.Controller.ContainerName)
	if t.Name != "" {
		s += fmt.Sprintf(", name %q", t.Name)
	}
	if t.Selector != nil {
		sel, _ := metav1.LabelSelectorAsSelector(t.Selector)
		s += fmt.Sprintf(", selector %q", sel.String())
	}
	return s + ")"
}

// selects reports whether item is a candidate workload, before looking at its containers.
func (c *ExternalHaproxy) selects(item *yaml.RNode, selector labels.Selector) bool {
	kind := item.GetKind()
	if kind != "DaemonSet" && kind != "Deployment" || item.GetApiVersion() != "apps/v1" {
		return false // also excludes Kptfile and the function config itself
	}
	if item.GetAnnotations()[filters.LocalConfigAnnotation] == "true" {
		return false
	}
	t := c.Spec.Target
	return (t.Kind == "" || t.Kind == kind) &&
		(t.Name == "" || t.Name == item.GetName()) &&
		selector.Matches(labels.Set(item.GetLabels()))
}

func (c *ExternalHaproxy) containerField(list, name string) string {
	return fmt.Sprintf("spec.template.spec.%s[name=%s]", list, name)
}

// mounts are the shared directories a container needs, per the volume layout.
func (c *ExternalHaproxy) mounts(dirs ...string) []mount {
	names := map[string]string{c.Spec.Dirs.Config: "etc", c.Spec.Dirs.State: "lib", c.Spec.Dirs.Run: "run"}
	ms := make([]mount, 0, len(dirs))
	for _, d := range dirs {
		if c.Spec.Volumes.Layout == LayoutSubPaths {
			ms = append(ms, mount{volume: c.Spec.Volumes.Name, subPath: names[d], mountPath: d})
		} else {
			ms = append(ms, mount{volume: names[d], mountPath: d})
		}
	}
	return ms
}

func (c *ExternalHaproxy) allDirs() []string {
	return []string{c.Spec.Dirs.Config, c.Spec.Dirs.State, c.Spec.Dirs.Run}
}

// volumeNames are the emptyDir volumes the layout needs.
func (c *ExternalHaproxy) volumeNames() []string {
	if c.Spec.Volumes.Layout == LayoutSubPaths {
		return []string{c.Spec.Volumes.Name}
	}
	return []string{"etc", "lib", "run"}
}

// checkExternal finds what would make the external form wrong: a needed volume name
// taken by a non-emptyDir volume, or a needed mount path served by another volume.
func (c *ExternalHaproxy) checkExternal(item, pod *yaml.RNode) framework.Results {
	var rs framework.Results
	if volumes := pod.Field("volumes"); volumes != nil {
		for _, name := range c.volumeNames() {
			v := volumes.Value.Element("name", name)
			if v == nil {
				continue
			}
			fields, _ := v.Fields()
			if !slices.Equal(fields, []string{"name", "emptyDir"}) && !slices.Equal(fields, []string{"emptyDir", "name"}) {
				rs = append(rs, resultFor(item, fmt.Sprintf("spec.template.spec.volumes[name=%s]", name),
					fmt.Sprintf("volume %q is needed as an emptyDir for the haproxy directories but is %s",
						name, strings.Join(slices.DeleteFunc(fields, func(f string) bool { return f == "name" }), ", "))))
			}
		}
	}
	check := func(list, name string, ms []mount) {
		lst := pod.Field(list)
		if lst == nil {
			return
		}
		ctr := lst.Value.Element("name", name)
		if ctr == nil {
			return
		}
		vms := ctr.Field("volumeMounts")
		if vms == nil {
			return
		}
		for _, m := range ms {
			existing := vms.Value.Element("mountPath", m.mountPath)
			if existing == nil {
				continue
			}
			vol := yaml.GetValue(existing.Field("name").Value)
			var sub string
			if f := existing.Field("subPath"); f != nil {
				sub = yaml.GetValue(f.Value)
			}
			if vol != m.volume || sub != m.subPath {
				want := fmt.Sprintf("volume %q", m.volume)
				if m.subPath != "" {
					want += fmt.Sprintf(" subPath %q", m.subPath)
				}
				got := fmt.Sprintf("volume %q", vol)
				if sub != "" {
					got += fmt.Sprintf(" subPath %q", sub)
				}
				rs = append(rs, resultFor(item,
					fmt.Sprintf("%s.volumeMounts[mountPath=%s]", c.containerField(list, name), m.mountPath),
					fmt.Sprintf("%s is mounted from %s, but the external-haproxy form needs %s", m.mountPath, got, want)))
			}
		}
	}
	all := c.mounts(c.allDirs()...)
	check("containers", c.Spec.Controller.ContainerName, all)
	for _, list := range []string{"containers", "initContainers"} {
		check(list, c.Spec.Haproxy.ContainerName, all)
	}
	if *c.Spec.Init.Enabled {
		check("initContainers", c.Spec.Init.ContainerName, c.mounts(c.Spec.Dirs.Config))
	}
	return rs
}

// resultFor is an error result about a field of item.
func resultFor(item *yaml.RNode, field, msg string) *framework.Result {
	r := &framework.Result{
		Severity: framework.Error,
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

// configNodes are the config's typed values rendered once per run, copied per workload.
type configNodes struct {
	resources, securityContext, liveness, readiness *yaml.RNode
	// defaultLiveness is used when neither the config nor the controller has a probe.
	defaultLiveness                    *yaml.RNode
	initResources, initSecurityContext *yaml.RNode
}

func (c *ExternalHaproxy) nodes() (*configNodes, error) {
	h, in := c.Spec.Haproxy, c.Spec.Init
	n := &configNodes{}
	for _, v := range []struct {
		dst **yaml.RNode
		val any
	}{
		{&n.resources, h.Resources}, {&n.securityContext, h.SecurityContext},
		{&n.readiness, h.ReadinessProbe}, {&n.initResources, in.Resources},
		{&n.initSecurityContext, in.SecurityContext}, {&n.defaultLiveness, defaultLivenessProbe()},
	} {
		var err error
		if *v.dst, err = toNode(v.val); err != nil {
			return nil, err
		}
	}
	if h.LivenessProbe != nil {
		var err error
		if n.liveness, err = toNode(h.LivenessProbe); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// mapNode builds a mapping with the given fields, in order. Values that parse as
// integers are tagged !!int (ports). Cheaper than parsing YAML once per workload.
func mapNode(kv ...string) *yaml.RNode {
	n := yaml.NewMapRNode(nil)
	for i := 0; i+1 < len(kv); i += 2 {
		v := yaml.NewStringRNode(kv[i+1])
		if _, err := strconv.Atoi(kv[i+1]); err == nil {
			v = yaml.NewScalarRNode(kv[i+1])
			v.YNode().Tag = yaml.NodeTagInt
		}
		n.YNode().Content = append(n.YNode().Content, yaml.NewScalarRNode(kv[i]).YNode(), v.YNode())
	}
	return n
}

func toNode(v any) (*yaml.RNode, error) {
	b, err := k8syaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	return yaml.Parse(string(b))
}

// toExternal brings one pod spec into the external-haproxy form. Every step is an upsert
// keyed by name (or mountPath), so running it on its own output changes nothing.
func (c *ExternalHaproxy) toExternal(pod *yaml.RNode, n *configNodes) error {
	s := c.Spec
	volumes, err := pod.Pipe(yaml.LookupCreate(yaml.SequenceNode, "volumes"))
	if err != nil {
		return err
	}
	for _, name := range c.volumeNames() {
		if volumes.Element("name", name) != nil {
			continue // an emptyDir, as checkExternal made sure
		}
		v := mapNode("name", name)
		if err := v.PipeE(yaml.SetField("emptyDir", yaml.NewMapRNode(nil))); err != nil {
			return err
		}
		if err := volumes.PipeE(yaml.Append(v.YNode())); err != nil {
			return err
		}
	}

	containers := pod.Field("containers").Value
	controller := containers.Element("name", s.Controller.ContainerName)
	if err := setMasterSocket(controller, s.MasterSocket); err != nil {
		return err
	}
	if err := ensureMounts(controller, c.mounts(c.allDirs()...)); err != nil {
		return err
	}
	movedPorts, err := takePorts(controller, haproxyPortNames)
	if err != nil {
		return err
	}
	movedLiveness := takeField(controller, "livenessProbe")

	if *s.Init.Enabled {
		if err := c.ensureInit(pod, controller, n); err != nil {
			return err
		}
	} else if err := removeElement(pod, "initContainers", s.Init.ContainerName); err != nil {
		return err
	}
	haproxy, err := c.placeHaproxy(pod)
	if err != nil {
		return err
	}

	if err := haproxy.PipeE(yaml.SetField("image", yaml.NewStringRNode(*s.Haproxy.Image))); err != nil {
		return err
	}
	// 0660: haproxy runs as root (see bindingSecurityContext) and the
	// controller as uid 99, in the pod's fsGroup 99 that owns the directory.
	args := yaml.NewListRNode("-W", "-S", s.MasterSocket+",mode,660", "-f", s.Dirs.Config)
	if err := haproxy.PipeE(yaml.SetField("args", args)); err != nil {
		return err
	}
	if s.Haproxy.NativeSidecar {
		err = haproxy.PipeE(yaml.SetField("restartPolicy", yaml.NewStringRNode("Always")))
	} else {
		err = haproxy.PipeE(yaml.Clear("restartPolicy"))
	}
	if err != nil {
		return err
	}
	if err := ensurePorts(haproxy, movedPorts); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		val  *yaml.RNode
	}{{"resources", n.resources}, {"securityContext", n.securityContext}} {
		if err := haproxy.PipeE(yaml.SetField(f.name, f.val.Copy())); err != nil {
			return err
		}
	}
	switch {
	case n.liveness != nil:
		err = haproxy.PipeE(yaml.SetField("livenessProbe", n.liveness.Copy()))
	case movedLiveness != nil:
		// Moving the key node too keeps its comments with the probe.
		_ = takeField(haproxy, "livenessProbe")
		haproxy.YNode().Content = append(haproxy.YNode().Content, movedLiveness.Key.YNode(), movedLiveness.Value.YNode())
	case haproxy.Field("livenessProbe") == nil:
		err = haproxy.PipeE(yaml.SetField("livenessProbe", n.defaultLiveness.Copy()))
	}
	if err != nil {
		return err
	}
	if err := haproxy.PipeE(yaml.SetField("readinessProbe", n.readiness.Copy())); err != nil {
		return err
	}
	return ensureMounts(haproxy, c.mounts(c.allDirs()...))
}

// ensureInit upserts the init container that writes the placeholder haproxy.cfg.
func (c *ExternalHaproxy) ensureInit(pod, controller *yaml.RNode, n *configNodes) error {
	s := c.Spec.Init
	list, err := pod.Pipe(yaml.LookupCreate(yaml.SequenceNode, "initContainers"))
	if err != nil {
		return err
	}
	init, err := list.Pipe(yaml.ElementMatcher{Keys: []string{"name"}, Values: []string{s.ContainerName},
		Create: yaml.NewMapRNode(&map[string]string{"name": s.ContainerName})})
	if err != nil {
		return err
	}
	image := s.Image
	if image == "" {
		// The controller image has the --init entrypoint, and following it means a
		// kustomize images: override of the controller retags the init container too.
		image = yaml.GetValue(controller.Field("image").Value)
	}
	for _, f := range []struct {
		name string
		val  *yaml.RNode
	}{
		{"image", yaml.NewStringRNode(image)},
		{"args", yaml.NewListRNode("--init")},
		{"resources", n.initResources.Copy()},
		{"securityContext", n.initSecurityContext.Copy()},
	} {
		if err := init.PipeE(yaml.SetField(f.name, f.val)); err != nil {
			return err
		}
	}
	// Only the config dir: the init step writes the placeholder haproxy.cfg and nothing else.
	return ensureMounts(init, c.mounts(c.Spec.Dirs.Config))
}

// placeHaproxy returns the haproxy container, created or moved into the list chosen by
// nativeSidecar. A native sidecar has to come after the init container, which writes the
// placeholder config haproxy starts with. A container already in the right place stays
// where it is, so that reruns do not reorder the pod.
func (c *ExternalHaproxy) placeHaproxy(pod *yaml.RNode) (*yaml.RNode, error) {
	name, native := c.Spec.Haproxy.ContainerName, c.Spec.Haproxy.NativeSidecar
	home, away := "containers", "initContainers"
	if native {
		home, away = away, home
	}
	list, err := pod.Pipe(yaml.LookupCreate(yaml.SequenceNode, home))
	if err != nil {
		return nil, err
	}
	seq := list.YNode()
	indexOf := func(n string) int {
		return slices.IndexFunc(seq.Content, func(e *yaml.Node) bool {
			f := yaml.NewRNode(e).Field("name")
			return f != nil && yaml.GetValue(f.Value) == n
		})
	}
	initAt := -1
	if native && *c.Spec.Init.Enabled {
		initAt = indexOf(c.Spec.Init.ContainerName)
	}
	if at := indexOf(name); at > initAt {
		return yaml.NewRNode(seq.Content[at]), removeElement(pod, away, name)
	}

	var existing *yaml.RNode
	for _, l := range []string{home, away} {
		if f := pod.Field(l); f != nil && existing == nil {
			existing = f.Value.Element("name", name)
		}
	}
	if existing == nil {
		existing = yaml.NewMapRNode(&map[string]string{"name": name})
	}
	if err := removeElement(pod, away, name); err != nil {
		return nil, err
	}
	if err := list.PipeE(yaml.ElementSetter{Keys: []string{"name"}, Values: []string{name}}); err != nil {
		return nil, err
	}
	at := len(seq.Content)
	if native {
		at = indexOf(c.Spec.Init.ContainerName) + 1 // 0 without an init container
	}
	seq.Content = slices.Insert(seq.Content, at, existing.YNode())
	return existing, nil
}

// removeElement deletes the element named name from a pod spec list, and the list
// itself when it becomes empty.
func removeElement(pod *yaml.RNode, list, name string) error {
	f := pod.Field(list)
	if f == nil {
		return nil
	}
	if err := f.Value.PipeE(yaml.ElementSetter{Keys: []string{"name"}, Values: []string{name}}); err != nil {
		return err
	}
	if len(f.Value.YNode().Content) == 0 {
		return pod.PipeE(yaml.Clear(list))
	}
	return nil
}

// setMasterSocket replaces the value of an existing --master-socket flag (either
// "--master-socket=x" or "--master-socket x") in place, or appends one. Other args stay.
func setMasterSocket(controller *yaml.RNode, socket string) error {
	args, err := controller.Pipe(yaml.LookupCreate(yaml.SequenceNode, "args"))
	if err != nil {
		return err
	}
	want := masterSocketFlag + "=" + socket
	seq := args.YNode()
	found := false
	for i := 0; i < len(seq.Content); i++ {
		v := seq.Content[i].Value
		switch {
		case v == masterSocketFlag && !found:
			seq.Content[i].Value = want
			if i+1 < len(seq.Content) {
				seq.Content = slices.Delete(seq.Content, i+1, i+2)
			}
			found = true
		case strings.HasPrefix(v, masterSocketFlag+"=") && !found:
			seq.Content[i].Value = want
			found = true
		}
	}
	if !found {
		return args.PipeE(yaml.Append(yaml.NewScalarRNode(want).YNode()))
	}
	return nil
}

// removeMasterSocket drops every --master-socket flag, in both forms.
func removeMasterSocket(controller *yaml.RNode) error {
	f := controller.Field("args")
	if f == nil {
		return nil
	}
	seq := f.Value.YNode()
	for i := 0; i < len(seq.Content); {
		v := seq.Content[i].Value
		switch {
		case v == masterSocketFlag:
			seq.Content = slices.Delete(seq.Content, i, min(i+2, len(seq.Content)))
		case strings.HasPrefix(v, masterSocketFlag+"="):
			seq.Content = slices.Delete(seq.Content, i, i+1)
		default:
			i++
		}
	}
	if len(seq.Content) == 0 {
		return controller.PipeE(yaml.Clear("args"))
	}
	return nil
}

// ensureMounts adds the missing mounts. Mounts are keyed by mountPath, the field
// Kubernetes merges volumeMounts on; conflicting ones were rejected by checkExternal.
func ensureMounts(container *yaml.RNode, ms []mount) error {
	vms, err := container.Pipe(yaml.LookupCreate(yaml.SequenceNode, "volumeMounts"))
	if err != nil {
		return err
	}
	for _, m := range ms {
		if vms.Element("mountPath", m.mountPath) != nil {
			continue
		}
		node := mapNode("name", m.volume, "mountPath", m.mountPath)
		if m.subPath != "" {
			node = mapNode("name", m.volume, "mountPath", m.mountPath, "subPath", m.subPath)
		}
		if err := vms.PipeE(yaml.Append(node.YNode())); err != nil {
			return err
		}
	}
	return nil
}

// takePorts removes the named ports from a container and returns them in names order.
func takePorts(container *yaml.RNode, names []string) ([]*yaml.RNode, error) {
	f := container.Field("ports")
	if f == nil {
		return nil, nil
	}
	var taken []*yaml.RNode
	for _, name := range names {
		if p := f.Value.Element("name", name); p != nil {
			taken = append(taken, p)
			if err := f.Value.PipeE(yaml.ElementSetter{Keys: []string{"name"}, Values: []string{name}}); err != nil {
				return nil, err
			}
		}
	}
	if len(f.Value.YNode().Content) == 0 {
		return taken, container.PipeE(yaml.Clear("ports"))
	}
	return taken, nil
}

// ensurePorts gives haproxy the ports taken from the controller, and defaults for the
// haproxy ports that neither container declares yet.
func ensurePorts(haproxy *yaml.RNode, moved []*yaml.RNode) error {
	ports, err := haproxy.Pipe(yaml.LookupCreate(yaml.SequenceNode, "ports"))
	if err != nil {
		return err
	}
	for _, p := range moved {
		name := yaml.GetValue(p.Field("name").Value)
		if err := ports.PipeE(yaml.ElementSetter{Keys: []string{"name"}, Values: []string{name}, Element: p.YNode()}); err != nil {
			return err
		}
	}
	for _, name := range append(slices.Clone(haproxyPortNames), "healthz") {
		if ports.Element("name", name) != nil {
			continue
		}
		p := mapNode("name", name, "containerPort", strconv.Itoa(defaultPorts[name]))
		if err := ports.PipeE(yaml.Append(p.YNode())); err != nil {
			return err
		}
	}
	return nil
}

// takeField removes a field from a map node and returns it, key node included.
func takeField(node *yaml.RNode, name string) *yaml.MapNode {
	f := node.Field(name)
	if f == nil {
		return nil
	}
	_, _ = node.Pipe(yaml.Clear(name))
	return f
}

// toEmbedded undoes toExternal: the sidecar, the init container and the master socket
// go away; the liveness probe and the haproxy ports go back to the controller. Volumes
// and mounts stay, the embedded haproxy uses the same directories.
func (c *ExternalHaproxy) toEmbedded(pod *yaml.RNode) error {
	s := c.Spec
	controller := pod.Field("containers").Value.Element("name", s.Controller.ContainerName)
	if err := removeMasterSocket(controller); err != nil {
		return err
	}
	var haproxy *yaml.RNode
	for _, list := range []string{"containers", "initContainers"} {
		if f := pod.Field(list); f != nil && haproxy == nil {
			haproxy = f.Value.Element("name", s.Haproxy.ContainerName)
		}
	}
	if haproxy != nil {
		moved, err := takePorts(haproxy, haproxyPortNames)
		if err != nil {
			return err
		}
		if len(moved) > 0 {
			ports, err := controller.Pipe(yaml.LookupCreate(yaml.SequenceNode, "ports"))
			if err != nil {
				return err
			}
			// Back in front, where the base declares them; existing ones win.
			var front []*yaml.Node
			for _, p := range moved {
				if ports.Element("name", yaml.GetValue(p.Field("name").Value)) == nil {
					front = append(front, p.YNode())
				}
			}
			ports.YNode().Content = append(front, ports.YNode().Content...)
		}
		if controller.Field("livenessProbe") == nil {
			if probe := takeField(haproxy, "livenessProbe"); probe != nil {
				insertFieldBefore(controller, probe, "readinessProbe")
			}
		}
	}
	for _, list := range []string{"containers", "initContainers"} {
		if err := removeElement(pod, list, s.Haproxy.ContainerName); err != nil {
			return err
		}
	}
	return removeElement(pod, "initContainers", s.Init.ContainerName)
}

// insertFieldBefore adds f to node before the field named before (Kubernetes' usual
// livenessProbe, readinessProbe order), or at the end when that field is absent.
func insertFieldBefore(node *yaml.RNode, f *yaml.MapNode, before string) {
	content := node.YNode().Content
	at := len(content)
	for i := 0; i+1 < len(content); i += 2 {
		if content[i].Value == before {
			at = i
			break
		}
	}
	node.YNode().Content = slices.Insert(content, at, f.Key.YNode(), f.Value.YNode())
}
