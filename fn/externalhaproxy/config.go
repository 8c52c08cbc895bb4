// Package externalhaproxy implements a KRM function that turns the haproxy-ingress
// workload (controller with an embedded haproxy) into the external-haproxy form: the
// controller drives a haproxy sidecar through its master socket, an init container
// writes the placeholder config, and the three haproxy directories are shared.
// It can also turn such a workload back into the embedded form.
package externalhaproxy

import (
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/external-haproxy/kit/internal/podlayout"
)

// Group/version and kind of the function config.
const (
	APIVersion = "kit.external-haproxy.dev/v1alpha1"
	Kind       = "ExternalHaproxy"
)

// Mode is the form the target workloads are brought into.
type Mode string

const (
	// ModeExternal runs haproxy in a sidecar driven through the master socket.
	ModeExternal Mode = "external"
	// ModeEmbedded undoes ModeExternal: the controller runs its own haproxy again.
	ModeEmbedded Mode = "embedded"
)

// Layout is how the three haproxy directories are backed by volumes.
type Layout string

const (
	// LayoutEmptyDirs uses three emptyDir volumes named etc, lib and run (the base layout).
	LayoutEmptyDirs Layout = "emptyDirs"
	// LayoutSubPaths uses one emptyDir volume mounted with subPaths etc, lib and run (the chart layout).
	LayoutSubPaths Layout = "subPaths"
)

// ExternalHaproxy is the function config.
type ExternalHaproxy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              Spec `json:"spec,omitempty"`

	// strictErrs holds the unknown and duplicate fields found while decoding. They are
	// reported by Validate, together with the invalid values, because the framework's
	// decoder is lenient and Validate is the only hook that can produce results.
	strictErrs []error
}

// Spec is the desired form of the target workloads.
type Spec struct {
	// Mode is external (default) or embedded.
	Mode Mode `json:"mode,omitempty"`
	// Target selects the workloads to transform.
	Target Target `json:"target,omitempty"`
	// Controller identifies the haproxy-ingress controller container.
	Controller Controller `json:"controller,omitempty"`
	// MasterSocket is the haproxy master CLI socket; it must live in Dirs.Run.
	MasterSocket string `json:"masterSocket,omitempty"`
	// Dirs are the directories shared between controller, haproxy and init container.
	Dirs Dirs `json:"dirs,omitempty"`
	// Volumes says how Dirs are backed by volumes.
	Volumes Volumes `json:"volumes,omitempty"`
	// Haproxy is the haproxy sidecar.
	Haproxy Haproxy `json:"haproxy,omitempty"`
	// Init is the init container that writes the placeholder haproxy config.
	Init Init `json:"init,omitempty"`
}

// Target selects workloads. Empty fields match everything.
type Target struct {
	// Kind is DaemonSet, Deployment or empty for both.
	Kind string `json:"kind,omitempty"`
	// Name is the workload's metadata.name.
	Name string `json:"name,omitempty"`
	// Selector is a label selector on the workload's metadata.labels.
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
}

// Controller identifies the controller container.
type Controller struct {
	// ContainerName is the name of the haproxy-ingress controller container.
	ContainerName string `json:"containerName,omitempty"`
}

// Dirs are absolute paths of the shared haproxy directories.
type Dirs struct {
	// Config holds haproxy.cfg and the map files (haproxy -f points here).
	Config string `json:"config,omitempty"`
	// State holds mostly TLS files.
	State string `json:"state,omitempty"`
	// Run holds the unix sockets.
	Run string `json:"run,omitempty"`
}

// Volumes says how the shared directories are backed.
type Volumes struct {
	// Layout is emptyDirs or subPaths. Unset, it is the layout the workload's
	// mounts of the dirs already use, or emptyDirs when it mounts none of them.
	Layout Layout `json:"layout,omitempty"`
	// Name is the single emptyDir volume of the subPaths layout. Unset, it is the
	// volume the workload already mounts the dirs from, or scratch.
	Name string `json:"name,omitempty"`
}

// Haproxy is the haproxy sidecar. Image, Resources, SecurityContext and the probes
// replace the sidecar's own values when set (a different input value is reported);
// unset, an existing sidecar keeps its values and only missing ones get defaults.
type Haproxy struct {
	// ContainerName is the sidecar's name.
	ContainerName string `json:"containerName,omitempty"`
	// Image is the haproxy image. A pointer so that an image that is set but empty
	// (say an unset variable substituted in) is an error rather than unset.
	Image *string `json:"image,omitempty"`
	// NativeSidecar puts haproxy into initContainers with restartPolicy: Always.
	NativeSidecar bool `json:"nativeSidecar,omitempty"`
	// Resources of the sidecar.
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// SecurityContext of the sidecar.
	SecurityContext *corev1.SecurityContext `json:"securityContext,omitempty"`
	// LivenessProbe of the sidecar; unset, the sidecar's own, else the controller's
	// probe of a haproxy port (moved over), else GET :10253/healthz.
	LivenessProbe *corev1.Probe `json:"livenessProbe,omitempty"`
	// ReadinessProbe of the sidecar.
	ReadinessProbe *corev1.Probe `json:"readinessProbe,omitempty"`
}

// Init is the init container that writes the placeholder config. Its fields
// follow the same rule as Haproxy's.
type Init struct {
	// Enabled adds the init container (default true).
	Enabled *bool `json:"enabled,omitempty"`
	// ContainerName is the init container's name.
	ContainerName string `json:"containerName,omitempty"`
	// Image defaults to the controller container's image (same binary, --init).
	Image *string `json:"image,omitempty"`
	// Resources of the init container.
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// SecurityContext of the init container.
	SecurityContext *corev1.SecurityContext `json:"securityContext,omitempty"`
}

// UnmarshalJSON decodes strictly and keeps the unknown/duplicate fields for Validate.
func (c *ExternalHaproxy) UnmarshalJSON(data []byte) error {
	type plain ExternalHaproxy // no methods: avoids recursing into UnmarshalJSON
	strictErrs, err := sigsjson.UnmarshalStrict(data, (*plain)(c))
	if err != nil {
		return err
	}
	c.strictErrs = strictErrs
	return nil
}

// Default fills in names and paths. It leaves the container fields (image,
// resources, securityContext, probes) and the volume layout unset: those come
// from the input when it has them, and from defaults only where it has none, so
// that a default never replaces a value the input already has.
func (c *ExternalHaproxy) Default() error {
	s := &c.Spec
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def((*string)(&s.Mode), string(ModeExternal))
	def(&s.Controller.ContainerName, defaults.controllerName)
	def(&s.Dirs.Config, podlayout.ConfigDir)
	def(&s.Dirs.State, podlayout.StateDir)
	def(&s.Dirs.Run, podlayout.RunDir)
	def(&s.MasterSocket, path.Join(s.Dirs.Run, podlayout.MasterSocketName))
	def(&s.Haproxy.ContainerName, defaults.haproxyName)
	def(&s.Init.ContainerName, defaults.initName)
	if s.Init.Enabled == nil {
		enabled := true
		s.Init.Enabled = &enabled
	}
	return nil
}

// Validate checks the (defaulted) config. Every problem becomes one error result.
func (c *ExternalHaproxy) Validate() error {
	ref := &yaml.ResourceIdentifier{
		TypeMeta: yaml.TypeMeta{APIVersion: c.APIVersion, Kind: c.Kind},
		NameMeta: yaml.NameMeta{Name: c.Name, Namespace: c.Namespace},
	}
	var rs framework.Results
	fail := func(field, format string, args ...any) {
		rs = append(rs, &framework.Result{
			Severity:    framework.Error,
			Message:     fmt.Sprintf(format, args...),
			ResourceRef: ref,
			Field:       &framework.Field{Path: field},
		})
	}
	for _, e := range c.strictErrs {
		field := ""
		if fe, ok := e.(sigsjson.FieldError); ok {
			field = fe.FieldPath()
		}
		rs = append(rs, &framework.Result{
			Severity: framework.Error, Message: "invalid function config: " + e.Error(),
			ResourceRef: ref, Field: &framework.Field{Path: field},
		})
	}

	s := c.Spec
	if s.Mode != ModeExternal && s.Mode != ModeEmbedded {
		fail("spec.mode", "must be %q or %q, got %q", ModeExternal, ModeEmbedded, s.Mode)
	}
	switch s.Target.Kind {
	case "", "DaemonSet", "Deployment":
	default:
		fail("spec.target.kind", "must be DaemonSet, Deployment or empty, got %q", s.Target.Kind)
	}
	if s.Target.Selector != nil {
		if _, err := metav1.LabelSelectorAsSelector(s.Target.Selector); err != nil {
			fail("spec.target.selector", "%v", err)
		}
	}
	names := map[string]string{}
	for _, n := range []struct{ field, name string }{
		{"spec.controller.containerName", s.Controller.ContainerName},
		{"spec.haproxy.containerName", s.Haproxy.ContainerName},
		{"spec.init.containerName", s.Init.ContainerName},
	} {
		if errs := validation.IsDNS1123Label(n.name); len(errs) > 0 {
			fail(n.field, "invalid container name %q: %s", n.name, strings.Join(errs, "; "))
		} else if other, dup := names[n.name]; dup {
			fail(n.field, "%q is already used by %s", n.name, other)
		}
		names[n.name] = n.field
	}

	dirs := map[string]string{}
	for _, d := range []struct{ field, dir string }{
		{"spec.dirs.config", s.Dirs.Config},
		{"spec.dirs.state", s.Dirs.State},
		{"spec.dirs.run", s.Dirs.Run},
	} {
		if err := checkAbsPath(d.dir); err != "" {
			fail(d.field, "%s", err)
			continue
		}
		for other, field := range dirs {
			if other == d.dir || strings.HasPrefix(d.dir, other+"/") || strings.HasPrefix(other, d.dir+"/") {
				fail(d.field, "%q overlaps %s %q", d.dir, field, other)
			}
		}
		dirs[d.dir] = d.field
	}
	if err := checkAbsPath(s.MasterSocket); err != "" {
		fail("spec.masterSocket", "%s", err)
	} else if path.Dir(s.MasterSocket) != s.Dirs.Run {
		// Only the run dir is shared read-write between controller and haproxy.
		fail("spec.masterSocket", "%q must be directly inside spec.dirs.run %q", s.MasterSocket, s.Dirs.Run)
	}

	switch s.Volumes.Layout {
	case "", LayoutEmptyDirs, LayoutSubPaths:
	default:
		fail("spec.volumes.layout", "must be %q, %q or unset, got %q", LayoutEmptyDirs, LayoutSubPaths, s.Volumes.Layout)
	}
	if s.Volumes.Name != "" {
		if errs := validation.IsDNS1123Label(s.Volumes.Name); len(errs) > 0 {
			fail("spec.volumes.name", "invalid volume name %q: %s", s.Volumes.Name, strings.Join(errs, "; "))
		}
	}

	// Pinning is not checked here: the same rule applies to every image the
	// function writes, wherever it came from (PinnedImage).
	for _, img := range []struct {
		field string
		image *string
	}{{"spec.haproxy.image", s.Haproxy.Image}, {"spec.init.image", s.Init.Image}} {
		if img.image != nil {
			if err := checkImage(*img.image); err != "" {
				fail(img.field, "%s", err)
			}
		}
	}
	if len(rs) > 0 {
		return resultsError{rs}
	}
	return nil
}

func checkAbsPath(p string) string {
	switch {
	case p == "":
		return "must not be empty"
	case !path.IsAbs(p):
		return fmt.Sprintf("%q must be an absolute path", p)
	case path.Clean(p) != p || p == "/":
		return fmt.Sprintf("%q must be a clean path below /", p)
	}
	return ""
}

// checkImage rejects what is not an image reference at all.
func checkImage(image string) string {
	switch name, _, _ := splitImage(image); {
	case image == "":
		return "must not be empty"
	case strings.ContainsAny(image, " \t\n"):
		return fmt.Sprintf("%q must not contain whitespace", image)
	case name == "":
		return fmt.Sprintf("%q has no image name", image)
	}
	return ""
}

// unpinned says why image is not pinned to one build, or "" when it is: a
// digest, or a tag other than latest.
func unpinned(image string) string {
	switch _, tag, digest := splitImage(image); {
	case digest:
	case tag == "":
		return "has no tag or digest"
	case tag == "latest":
		return "uses the latest tag"
	}
	return ""
}

func splitImage(image string) (name, tag string, digest bool) {
	if i := strings.Index(image, "@"); i >= 0 {
		return image[:i], "", true
	}
	name = image
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		name, tag = image[:i], image[i+1:]
	}
	return name, tag, false
}
