package externalhaproxy

import (
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Mount is one of the shared directories as a container mounts it.
type Mount struct {
	Volume, SubPath, MountPath string
}

func (m Mount) String() string {
	s := fmt.Sprintf("volume %q", m.Volume)
	if m.SubPath != "" {
		s += fmt.Sprintf(" subPath %q", m.SubPath)
	}
	return s
}

// dirNames name the volumes (emptyDirs) or subPaths (subPaths) of the three dirs.
var dirNames = []string{"etc", "lib", "run"}

func (d Dirs) all() []string { return []string{d.Config, d.State, d.Run} }

// mounts of the given dirs (some of d's three) for the layout v.
func (d Dirs) mounts(v Volumes, dirs ...string) []Mount {
	ms := make([]Mount, 0, len(dirs))
	for _, dir := range dirs {
		name := dirNames[slices.Index(d.all(), dir)]
		if v.Layout == LayoutSubPaths {
			ms = append(ms, Mount{Volume: v.Name, SubPath: name, MountPath: dir})
		} else {
			ms = append(ms, Mount{Volume: name, MountPath: dir})
		}
	}
	return ms
}

// volumeNames are the emptyDir volumes layout v needs.
func (v Volumes) volumeNames() []string {
	if v.Layout == LayoutSubPaths {
		return []string{v.Name}
	}
	return dirNames
}

// setting is how the messages name the config that chose the layout.
func (v Volumes) setting() string {
	if v.Layout == LayoutSubPaths {
		return fmt.Sprintf("spec.volumes.layout: subPaths, spec.volumes.name: %s", v.Name)
	}
	return "spec.volumes.layout: emptyDirs"
}

// DetectVolumes completes v for one pod spec. A layout set in v is kept. Unset, it is
// the one the containers' existing mounts of dirs use: all from one volume with
// subPaths (the chart), or all without subPaths (three emptyDirs); emptyDirs when
// they mount none of dirs. Mixed mounts are an error finding that names
// spec.volumes.layout, the setting that decides. The subPaths volume name defaults
// to the mounted one, then to defaults.volumeName.
func DetectVolumes(pod *yaml.RNode, v Volumes, dirs []string, containers []string, r *Report) Volumes {
	if v.Layout == "" {
		var found []string
		subPathVolumes, plain := map[string]bool{}, 0
		for _, name := range containers {
			c, _ := findContainer(pod, name)
			if c == nil {
				continue
			}
			for _, m := range mountsOf(c) {
				if !slices.Contains(dirs, m.MountPath) {
					continue
				}
				found = append(found, fmt.Sprintf("%s mounts %s from %s", name, m.MountPath, m))
				if m.SubPath != "" {
					subPathVolumes[m.Volume] = true
				} else {
					plain++
				}
				if v.Name == "" && m.SubPath != "" {
					v.Name = m.Volume
				}
			}
		}
		switch {
		case plain > 0 && len(subPathVolumes) > 0, len(subPathVolumes) > 1:
			r.fail("volumes", "cannot tell the volume layout of the haproxy directories (%s): set spec.volumes.layout to %s or %s",
				strings.Join(found, ", "), LayoutEmptyDirs, LayoutSubPaths)
		case len(subPathVolumes) == 1:
			v.Layout = LayoutSubPaths
		default:
			v.Layout = LayoutEmptyDirs
		}
	}
	if v.Name == "" {
		v.Name = defaults.volumeName
	}
	return v
}

func mountsOf(container *yaml.RNode) []Mount {
	var ms []Mount
	for _, n := range elements(container, "volumeMounts") {
		m := yaml.NewRNode(n)
		ms = append(ms, Mount{Volume: scalar(m, "name"), SubPath: scalar(m, "subPath"), MountPath: scalar(m, "mountPath")})
	}
	return ms
}

// CheckMounts finds what stands in the way of the shared dirs, as error findings: a
// volume of Volumes.volumeNames that is not an emptyDir, or a mount path of Mounts
// served by another volume or subPath. It changes nothing.
type CheckMounts struct {
	Volumes Volumes
	Mounts  []ContainerMounts
	Report  *Report
}

// ContainerMounts are the mounts a container (by name, in either list) needs.
type ContainerMounts struct {
	Container string
	Mounts    []Mount
}

// Filter implements yaml.Filter.
func (c CheckMounts) Filter(pod *yaml.RNode) (*yaml.RNode, error) {
	for _, name := range c.Volumes.volumeNames() {
		v := element(pod, "volumes", name)
		if v == nil {
			continue
		}
		fields, _ := v.Fields()
		if other := slices.DeleteFunc(fields, func(f string) bool { return f == "name" }); !slices.Equal(other, []string{"emptyDir"}) {
			c.Report.fail(fmt.Sprintf("volumes[name=%s]", name), "volume %q is needed as an emptyDir for the haproxy directories (%s) but is %s",
				name, c.Volumes.setting(), strings.Join(other, ", "))
		}
	}
	for _, cm := range c.Mounts {
		ctr, list := findContainer(pod, cm.Container)
		if ctr == nil {
			continue
		}
		have := mountsOf(ctr)
		for _, want := range cm.Mounts {
			i := slices.IndexFunc(have, func(m Mount) bool { return m.MountPath == want.MountPath })
			if i >= 0 && have[i] != want {
				c.Report.fail(containerField(list, cm.Container, fmt.Sprintf("volumeMounts[mountPath=%s]", want.MountPath)),
					"%s is mounted from %s, but the external-haproxy form needs %s (%s)", want.MountPath, have[i], want, c.Volumes.setting())
			}
		}
	}
	return pod, nil
}

// EmptyDirs adds the emptyDir volumes Names that the pod spec lacks.
type EmptyDirs struct {
	Names  []string
	Report *Report
}

// Filter implements yaml.Filter.
func (e EmptyDirs) Filter(pod *yaml.RNode) (*yaml.RNode, error) {
	volumes, err := pod.Pipe(yaml.LookupCreate(yaml.SequenceNode, "volumes"))
	if err != nil {
		return nil, err
	}
	var added []string
	for _, name := range e.Names {
		if volumes.Element("name", name) != nil {
			continue // an emptyDir, as CheckMounts made sure
		}
		v := mapNode("name", name)
		if err := v.PipeE(yaml.SetField("emptyDir", yaml.NewMapRNode(nil))); err != nil {
			return nil, err
		}
		if err := volumes.PipeE(yaml.Append(v.YNode())); err != nil {
			return nil, err
		}
		added = append(added, name)
	}
	if len(added) > 0 {
		e.Report.note("added emptyDir volumes", "", added...)
	}
	return pod, nil
}

// EnsureMounts adds the Mounts the Container (in either list) lacks. Mounts are
// keyed by mountPath, the field Kubernetes merges volumeMounts on; conflicting
// ones are CheckMounts' business.
type EnsureMounts struct {
	Container string
	Mounts    []Mount
	Report    *Report
}

// Filter implements yaml.Filter.
func (e EnsureMounts) Filter(pod *yaml.RNode) (*yaml.RNode, error) {
	ctr, _, err := requireContainer(pod, e.Container)
	if err != nil {
		return nil, err
	}
	vms, err := ctr.Pipe(yaml.LookupCreate(yaml.SequenceNode, "volumeMounts"))
	if err != nil {
		return nil, err
	}
	var added []string
	for _, m := range e.Mounts {
		if vms.Element("mountPath", m.MountPath) != nil {
			continue
		}
		kv := []string{"name", m.Volume, "mountPath", m.MountPath}
		if m.SubPath != "" {
			kv = append(kv, "subPath", m.SubPath)
		}
		if err := vms.PipeE(yaml.Append(mapNode(kv...).YNode())); err != nil {
			return nil, err
		}
		added = append(added, m.MountPath)
	}
	if len(added) > 0 {
		e.Report.noteOn(e.Container, "mounted", "in "+e.Container, added...)
	}
	return pod, nil
}
