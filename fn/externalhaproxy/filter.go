package externalhaproxy

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

var _ kio.Filter = &ExternalHaproxy{}

// Filter brings every target workload into the form of spec.mode by piping its pod
// spec through the steps of that mode (external or embedded below). It checks every
// target before changing any: on error it returns the items unchanged with the error
// results. On success the results are an info result per changed workload and the
// warnings.
func (c *ExternalHaproxy) Filter(items []*yaml.RNode) ([]*yaml.RNode, error) {
	s := c.Spec
	sel := Select{Kind: s.Target.Kind, Name: s.Target.Name, Controller: s.Controller.ContainerName}
	if s.Target.Selector != nil {
		var err error
		if sel.Selector, err = metav1.LabelSelectorAsSelector(s.Target.Selector); err != nil {
			return items, err // already rejected by Validate
		}
	}
	targets, err := sel.Filter(items)
	if err != nil {
		return items, err
	}
	fields, err := c.fields()
	if err != nil {
		return items, err
	}

	// The steps edit a copy of each pod spec, swapped in only once every workload
	// succeeded, so that an unexpected structure (say args given as a string) cannot
	// leave some items half-edited. Unchanged ones keep their original nodes.
	type edit struct{ template, pod *yaml.RNode }
	var edits []edit
	var errs, rs framework.Results
	for _, item := range targets {
		template, err := item.Pipe(yaml.Lookup("spec", "template"))
		if err != nil {
			return items, err // Select made sure there is a pod spec
		}
		before := template.Field("spec").Value
		pod, r := before.Copy(), &Report{}
		if err := c.transform(pod, fields, r); err != nil {
			errs = append(errs, resultFor(item, framework.Error, podSpec, err.Error()))
			continue
		}
		changed := !sameNode(before.YNode(), pod.YNode())
		if r.failed() {
			errs = append(errs, r.results(item, s.Mode, false)...)
			continue
		}
		rs = append(rs, r.results(item, s.Mode, changed)...)
		if changed {
			edits = append(edits, edit{template, pod})
		}
	}
	if len(errs) > 0 {
		return items, resultsError{errs}
	}
	for _, e := range edits {
		if err := e.template.PipeE(yaml.SetField("spec", e.pod)); err != nil {
			return items, err
		}
	}
	if len(rs) == 0 {
		return items, nil
	}
	return items, rs
}

func (c *ExternalHaproxy) transform(pod *yaml.RNode, f fieldSet, r *Report) error {
	if c.Spec.Mode == ModeEmbedded {
		return pod.PipeE(c.embedded(r)...)
	}
	s := c.Spec
	if err := pod.PipeE(AdoptInit{Name: s.Init.ContainerName, Report: r}); err != nil {
		return err
	}
	v := DetectVolumes(pod, s.Volumes, s.Dirs.all(),
		[]string{s.Controller.ContainerName, s.Haproxy.ContainerName, s.Init.ContainerName}, r)
	if r.failed() {
		return nil
	}
	if err := pod.PipeE(CheckMounts{Volumes: v, Mounts: c.mountsNeeded(v), Report: r}); err != nil || r.failed() {
		return err
	}
	return pod.PipeE(c.external(pod, v, f, r)...)
}

// mountsNeeded are the mounts each container of the external form needs. The init
// container only writes the placeholder haproxy.cfg, so it mounts the config dir only.
func (c *ExternalHaproxy) mountsNeeded(v Volumes) []ContainerMounts {
	s := c.Spec
	all := s.Dirs.mounts(v, s.Dirs.all()...)
	ms := []ContainerMounts{{s.Controller.ContainerName, all}, {s.Haproxy.ContainerName, all}}
	if *s.Init.Enabled {
		ms = append(ms, ContainerMounts{s.Init.ContainerName, s.Dirs.mounts(v, s.Dirs.Config)})
	}
	return ms
}

// external are the steps to the external-haproxy form. Each one is an upsert keyed by
// name (or mountPath), so that running them on their own output changes nothing.
func (c *ExternalHaproxy) external(pod *yaml.RNode, v Volumes, f fieldSet, r *Report) []yaml.Filter {
	s := c.Spec
	ctl, hap, ini := s.Controller.ContainerName, s.Haproxy.ContainerName, s.Init.ContainerName
	all := s.Dirs.mounts(v, s.Dirs.all()...)
	controller := element(pod, containersList, ctl)
	keep := controllerPort(controller)
	steps := []yaml.Filter{
		EmptyDirs{Names: v.volumeNames(), Report: r},
		MasterSocketArg{Container: ctl, Socket: s.MasterSocket, Report: r},
		BindPrivilege{Container: ctl, Binds: false, Report: r},
		EnsureMounts{Container: ctl, Mounts: all, Report: r},
	}
	after := ""
	if *s.Init.Enabled {
		after = ini
		image := f.initImage
		if ctlImage := scalar(controller, "image"); ctlImage != "" {
			// The controller image has the --init entrypoint, and following it means a
			// kustomize images: override of the controller retags the init container too.
			image.Default = yaml.NewStringRNode(ctlImage)
		}
		steps = append(steps,
			PlaceInit{Name: ini, Report: r},
			SetFields{Container: ini, Fields: []Field{image}, Report: r},
			InitArgs{Container: ini, Report: r},
			SetFields{Container: ini, Fields: []Field{f.initResources, f.initSecurityContext}, Report: r},
			EnsureMounts{Container: ini, Mounts: s.Dirs.mounts(v, s.Dirs.Config), Report: r},
			PinnedImage{Container: ini, Setting: "spec.init.image", Report: r},
		)
	} else {
		steps = append(steps, RemoveInit{Name: ini, Report: r})
	}
	return append(steps,
		PlaceSidecar{Name: hap, Native: s.Haproxy.NativeSidecar, After: after, Report: r},
		SetFields{Container: hap, Fields: []Field{f.haproxyImage}, Report: r},
		HaproxyArgs{Container: hap, Socket: s.MasterSocket, SocketOptions: defaults.masterSocketOptions, ConfigDir: s.Dirs.Config, Report: r},
		MovePorts{From: ctl, To: hap, Keep: keep, Report: r},
		SetFields{Container: hap, Fields: []Field{f.resources, f.securityContext}, Report: r},
		MoveProbes{From: ctl, To: hap, Keep: keep, Report: r},
		SetFields{Container: hap, Fields: []Field{f.liveness, f.readiness}, Report: r},
		EnsureMounts{Container: hap, Mounts: all, Report: r},
		PinnedImage{Container: hap, Setting: "spec.haproxy.image", Report: r},
	)
}

// embedded are the steps back to the embedded form: the sidecar, the init containers
// (upstream's too) and the master socket go; haproxy's ports and probes go back to the
// controller, where one it has already wins. Volumes and mounts stay: the embedded
// haproxy uses the same directories.
func (c *ExternalHaproxy) embedded(r *Report) []yaml.Filter {
	s := c.Spec
	ctl, hap := s.Controller.ContainerName, s.Haproxy.ContainerName
	return []yaml.Filter{
		MasterSocketArg{Container: ctl, Report: r},
		BindPrivilege{Container: ctl, Binds: true, Report: r},
		// Back in front, where the base declares them.
		MovePorts{From: hap, To: ctl, Front: true, Report: r},
		MoveProbes{From: hap, To: ctl, Report: r},
		RemoveContainer{Name: hap, Report: r},
		RemoveInit{Name: s.Init.ContainerName, Report: r},
	}
}

// fieldSet are the config's container fields, rendered to nodes once per run.
type fieldSet struct {
	haproxyImage, resources, securityContext, liveness, readiness Field
	initImage, initResources, initSecurityContext                 Field
}

func (c *ExternalHaproxy) fields() (fieldSet, error) {
	var fs fieldSet
	var err error
	field := func(dst *Field, name, setting string, explicit, def any) {
		if err != nil {
			return
		}
		if *dst, err = ExplicitField(name, setting, explicit); err != nil {
			return
		}
		switch d := def.(type) {
		case nil:
		case string:
			dst.Default = yaml.NewStringRNode(d)
		default:
			dst.Default, err = toNode(d)
		}
	}
	h, in := c.Spec.Haproxy, c.Spec.Init
	field(&fs.haproxyImage, "image", "spec.haproxy.image", h.Image, defaults.haproxyImage)
	field(&fs.resources, "resources", "spec.haproxy.resources", h.Resources, defaults.haproxyResources)
	field(&fs.securityContext, "securityContext", "spec.haproxy.securityContext", h.SecurityContext, defaults.haproxySecurityContext)
	field(&fs.liveness, "livenessProbe", "spec.haproxy.livenessProbe", h.LivenessProbe, defaults.livenessProbe)
	field(&fs.readiness, "readinessProbe", "spec.haproxy.readinessProbe", h.ReadinessProbe, defaults.readinessProbe)
	field(&fs.initImage, "image", "spec.init.image", in.Image, nil) // the default is the controller's image
	field(&fs.initResources, "resources", "spec.init.resources", in.Resources, defaults.initResources)
	field(&fs.initSecurityContext, "securityContext", "spec.init.securityContext", in.SecurityContext, defaults.initSecurityContext)
	return fs, err
}
