package externalhaproxy

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/external-haproxy/kit/internal/podlayout"
)

// defaults is every value the function uses where neither the config nor the input
// has one, in one place so that changing a default is a one-line change. Names and
// paths are filled in by Default; the container fields are added by SetFields only
// to a container that lacks them, so they never replace an input value.
var defaults = struct {
	controllerName, haproxyName, initName string
	// volumeName is the single emptyDir of the subPaths layout (the chart's name).
	volumeName string

	haproxyImage string
	// masterSocketOptions follow the socket in haproxy's -S. mode 600: only haproxy's
	// uid, which the controller shares, may use it.
	masterSocketOptions                         string
	haproxyResources, initResources             *corev1.ResourceRequirements
	haproxySecurityContext, initSecurityContext *corev1.SecurityContext
	livenessProbe, readinessProbe               *corev1.Probe
}{
	controllerName: "haproxy-ingress",
	haproxyName:    "haproxy",
	initName:       "haproxy-ingress-init",
	volumeName:     "scratch",

	haproxyImage: "haproxy:3.0.23-alpine",
	// 0660: haproxy runs as root (see bindingSecurityContext) and the
	// controller as uid 99, in the pod's fsGroup 99 that owns the directory.
	masterSocketOptions: "mode,660",
	haproxyResources:    resources("100m", "128Mi", "512Mi"),
	// The chart's values: the init step only writes one small file.
	initResources:          resources("10m", "32Mi", "32Mi"),
	haproxySecurityContext: bindingSecurityContext("DAC_READ_SEARCH"),
	initSecurityContext:    restrictedSecurityContext(),
	// 60s (the chart's value) gives big clusters time to render the first config.
	livenessProbe: healthzProbe(60),
	// Not ready until the controller has rendered the real config: the placeholder
	// written by --init has no healthz frontend (upstream PR #937).
	readinessProbe: healthzProbe(10),
}

func healthzProbe(initialDelay int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: podlayout.HealthzPath, Port: intstr.FromInt32(podlayout.HealthzPort),
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
