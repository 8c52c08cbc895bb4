package e2eenv

import (
	"context"
	"fmt"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/external-haproxy/kit/test/poll"
)

// BackendNamespace holds the echo pods AddBackend starts.
const BackendNamespace = "backends"

// echoContainer is the echo server answering with its name on port.
func echoContainer(name string, port int) corev1.Container {
	return corev1.Container{
		Name: "echo", Image: EchoImage, ImagePullPolicy: corev1.PullNever,
		Args:           []string{"-listen", ":" + strconv.Itoa(port), "-name", name},
		Ports:          []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(port))}}, PeriodSeconds: 1},
	}
}

// AddBackend starts an echo pod named name, answering on port, and returns
// its address once it is ready.
func (e *Env) AddBackend(ctx context.Context, name string, port int) (string, error) {
	if err := e.EnsureNamespace(ctx, BackendNamespace); err != nil {
		return "", err
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: BackendNamespace, Name: name, Labels: map[string]string{"echo": name}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{echoContainer(name, port)}, TerminationGracePeriodSeconds: ptr(int64(1))},
	}
	if _, err := e.Admin.CoreV1().Pods(BackendNamespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return "", err
	}
	var ip, last string
	err := poll.Until(ctx, 60*time.Second, func() (bool, error) {
		p, err := e.Admin.CoreV1().Pods(BackendNamespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		last = string(p.Status.Phase) + ContainerStates(p)
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ip = p.Status.PodIP
				return true, nil
			}
		}
		return false, nil
	}, func() string { return "backend pod " + name + ": " + last })
	return ip, err
}

// AddBackends starts the echo pods of AddBackend all at once and returns
// their addresses by name.
func (e *Env) AddBackends(ctx context.Context, port int, names ...string) (map[string]string, error) {
	type result struct {
		name, ip string
		err      error
	}
	ch := make(chan result, len(names))
	for _, n := range names {
		go func() {
			ip, err := e.AddBackend(ctx, n, port)
			ch <- result{n, ip, err}
		}()
	}
	addrs := map[string]string{}
	var first error
	for range names {
		r := <-ch
		if r.err != nil && first == nil {
			first = fmt.Errorf("backend %s: %w", r.name, r.err)
		}
		addrs[r.name] = r.ip
	}
	return addrs, first
}

// EchoDeployment creates a Deployment of replicas echo pods, each answering
// with its pod name, and a Service with a selector for them: the
// controller-manager writes its EndpointSlice, as in any cluster.
func (e *Env) EchoDeployment(ctx context.Context, ns, name string, replicas int32) error {
	labels := map[string]string{"app": name}
	// Each replica answers with its pod's name.
	c := echoContainer("$(POD_NAME)", 8080)
	c.Env = []corev1.EnvVar{{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{c}, TerminationGracePeriodSeconds: ptr(int64(1))},
			},
		},
	}
	if _, err := e.Admin.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		return err
	}
	svc := ServiceFor(ns, name, 8080)
	svc.Spec.Selector = labels
	_, err := e.Admin.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	return err
}
