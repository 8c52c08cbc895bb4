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
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
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
	// Layout is emptyDirs (default) or subPaths.
	Layout Layout `json:"layout,omitempty"`
	// Name is the single emptyDir volume of the subPaths layout.
	Name string `json:"name,omitempty"`
}

// Haproxy is the haproxy sidecar.
type Haproxy struct {
	// ContainerName is the sidecar's name.
	ContainerName string `json:"containerName,omitempty"`
	// Image is the haproxy image, pinned by tag or digest. A pointer so that an image
	// that is set but empty (say an unset variable substituted in) is an error rather
	// than silently replaced by the default.
	Image *string `json:"image,omitempty"`
	// NativeSidecar puts haproxy into initContainers with restartPolicy: Always.
	NativeSidecar bool `json:"nativeSidecar,omitempty"`
	// Resources of the sidecar.
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// SecurityContext of the sidecar.
	SecurityContext *corev1.SecurityContext `json:"securityContext,omitempty"`
	// LivenessProbe of the sidecar; when unset the controller's liveness probe is moved
	// over, or a default GET :10253/healthz is used.
	LivenessProbe *corev1.Probe `json:"livenessProbe,omitempty"`
	// ReadinessProbe of the sidecar.
	ReadinessProbe *corev1.Probe `json:"readinessProbe,omitempty"`
}

// Init is the init container that writes the placeholder config.
type Init struct {
	// Enabled adds the init container (default true).
	Enabled *bool `json:"enabled,omitempty"`
	// ContainerName is the init container's name.
	ContainerName string `json:"containerName,omitempty"`
	// Image defaults to the controller container's image.
	Image string `json:"image,omitempty"`
	// Resources of the init container.
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// SecurityContext of the init container.
	SecurityContext *corev1.SecurityContext `json:"securityContext,omitempty"`
}

// healthzPort is haproxy's monitor-uri frontend rendered by the controller.
const healthzPort = 10253

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

// Default fills every unset field.
func (c *ExternalHaproxy) Default() error {
	s := &c.Spec
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def((*string)(&s.Mode), string(ModeExternal))
	def(&s.Controller.ContainerName, "haproxy-ingress")
	def(&s.Dirs.Config, "/etc/haproxy")
	def(&s.Dirs.State, "/var/lib/haproxy")
	def(&s.Dirs.Run, "/var/run/haproxy")
	def(&s.MasterSocket, path.Join(s.Dirs.Run, "master.sock"))
	def((*string)(&s.Volumes.Layout), string(LayoutEmptyDirs))
	def(&s.Volumes.Name, "scratch")
	def(&s.Haproxy.ContainerName, "haproxy")
	if s.Haproxy.Image == nil {
		image := "haproxy:3.0.23-alpine"
		s.Haproxy.Image = &image
	}
	def(&s.Init.ContainerName, "haproxy-ingress-init")
	if s.Init.Enabled == nil {
		enabled := true
		s.Init.Enabled = &enabled
	}
	if s.Haproxy.Resources == nil {
		s.Haproxy.Resources = resources("100m", "128Mi", "512Mi")
	}
	if s.Haproxy.SecurityContext == nil {
		s.Haproxy.SecurityContext = bindingSecurityContext("DAC_READ_SEARCH")
	}
	if s.Haproxy.ReadinessProbe == nil {
		// Not-ready until the controller has rendered the real config: the placeholder
		// written by --init has no healthz frontend (upstream PR #937).
		s.Haproxy.ReadinessProbe = healthzProbe(10)
	}
	if s.Init.Resources == nil {
		// The chart's values: the init step only writes one small file.
		s.Init.Resources = resources("10m", "32Mi", "32Mi")
	}
	if s.Init.SecurityContext == nil {
		s.Init.SecurityContext = restrictedSecurityContext()
	}
	return nil
}

// defaultLivenessProbe is used when neither the config nor the controller has one; the
// 60s initial delay (from the chart) gives big clusters time to render the first config.
func defaultLivenessProbe() *corev1.Probe { return healthzProbe(60) }

func healthzProbe(initialDelay int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: "/healthz", Port: intstr.FromInt32(healthzPort),
		}},
		InitialDelaySeconds: initialDelay,
		PeriodSeconds:       10,
		TimeoutSeconds:      1,
		FailureThreshold:    3,
	}
}

// resources requests cpu and memory and limits memory only: a CPU limit
// would throttle haproxy under load for no gain.
func resources(cpu, memory, memoryLimit string) *corev1.ResourceRequirements {
	return &corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(cpu),
			corev1.ResourceMemory: resource.MustParse(memory),
		},
		Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(memoryLimit)},
	}
}

// restrictedSecurityContext satisfies the "restricted" Pod Security Standard.
func restrictedSecurityContext(add ...corev1.Capability) *corev1.SecurityContext {
	yes, no := true, false
	uid := int64(99) // the uid of the haproxy and haproxy-ingress images
	return &corev1.SecurityContext{
		RunAsNonRoot:             &yes,
		RunAsUser:                &uid,
		AllowPrivilegeEscalation: &no,
		ReadOnlyRootFilesystem:   &yes,
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: add},
	}
}

// bindingSecurityContext is for the container that binds :80 and :443 on
// the node (hostNetwork): root with NET_BIND_SERVICE and no other
// capability but add. Kubernetes sets no ambient capabilities, so a non-root
// process gets no effective capability at exec, and the official haproxy
// image has no file capabilities: as uid 99 the bind fails. Root without
// CAP_DAC_OVERRIDE still obeys file modes; the external haproxy adds
// DAC_READ_SEARCH to read what the controller (uid 99) writes at 0600.
func bindingSecurityContext(add ...corev1.Capability) *corev1.SecurityContext {
	yes, no := true, false
	root := int64(0)
	return &corev1.SecurityContext{
		RunAsNonRoot:             &no,
		RunAsUser:                &root,
		AllowPrivilegeEscalation: &no,
		ReadOnlyRootFilesystem:   &yes,
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: append([]corev1.Capability{"NET_BIND_SERVICE"}, add...)},
	}
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
	case LayoutEmptyDirs:
	case LayoutSubPaths:
		if errs := validation.IsDNS1123Label(s.Volumes.Name); len(errs) > 0 {
			fail("spec.volumes.name", "invalid volume name %q: %s", s.Volumes.Name, strings.Join(errs, "; "))
		}
	default:
		fail("spec.volumes.layout", "must be %q or %q, got %q", LayoutEmptyDirs, LayoutSubPaths, s.Volumes.Layout)
	}

	if err := checkImage(*s.Haproxy.Image); err != "" {
		fail("spec.haproxy.image", "%s", err)
	}
	if s.Init.Image != "" {
		if err := checkImage(s.Init.Image); err != "" {
			fail("spec.init.image", "%s", err)
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

// checkImage requires a pinned image: a digest, or a tag other than latest.
func checkImage(image string) string {
	if image == "" {
		return "must not be empty"
	}
	if strings.ContainsAny(image, " \t\n") {
		return fmt.Sprintf("%q must not contain whitespace", image)
	}
	if strings.Contains(image, "@") {
		return ""
	}
	name, tag := image, ""
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		name, tag = image[:i], image[i+1:]
	}
	switch {
	case tag == "":
		return fmt.Sprintf("%q must be pinned with a tag or digest", image)
	case tag == "latest":
		return fmt.Sprintf("%q must not use the latest tag", image)
	case name == "":
		return fmt.Sprintf("%q has no image name", image)
	}
	return ""
}
