package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/external-haproxy/kit/test/poll"
	"github.com/external-haproxy/kit/test/proc"
)

// criClient talks to containerd the way the kubelet does, for what a test
// needs beyond the Kubernetes API: a container's process (to kill it like a
// crash) and removing every pod when the node stops.
type criClient struct {
	conn *grpc.ClientConn
	rt   runtimeapi.RuntimeServiceClient
}

// dialCRI connects to the socket and waits until the CRI answers; p, when
// set, is containerd's process, whose early exit ends the wait.
func dialCRI(ctx context.Context, socket string, p *proc.Process, timeout time.Duration) (*criClient, error) {
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	c := &criClient{conn: conn, rt: runtimeapi.NewRuntimeServiceClient(conn)}
	var last, exited error
	ready := func() (bool, error) {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		st, err := c.rt.Status(cctx, &runtimeapi.StatusRequest{})
		if last = err; err == nil && runtimeReady(st) {
			return true, nil
		}
		exited = p.EarlyExit()
		return false, exited
	}
	err = poll.Every(ctx, timeout, 50*time.Millisecond, ready, func() string { return fmt.Sprintf("last: %v", last) })
	if err != nil {
		conn.Close()
		if exited == nil {
			err = fmt.Errorf("containerd's CRI at %s not ready: %w", socket, err)
		}
		return nil, err
	}
	return c, nil
}

func runtimeReady(st *runtimeapi.StatusResponse) bool {
	for _, c := range st.GetStatus().GetConditions() {
		if c.Type == runtimeapi.RuntimeReady {
			return c.Status
		}
	}
	return false
}

func (c *criClient) close() { c.conn.Close() }

// removeAllPods stops and removes every pod sandbox: the containers die and
// the CNI plugin gives back the pod's namespace and address.
func (c *criClient) removeAllPods() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	list, err := c.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return
	}
	for _, s := range list.Items {
		_, _ = c.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: s.Id})
		_, _ = c.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: s.Id})
	}
}

// containerPID is the host PID of the running container's main process.
func (c *criClient) containerPID(ctx context.Context, ns, pod, container string) (int, error) {
	list, err := c.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{
		State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING},
		LabelSelector: map[string]string{
			"io.kubernetes.pod.namespace": ns, "io.kubernetes.pod.name": pod, "io.kubernetes.container.name": container,
		},
	}})
	if err != nil {
		return 0, err
	}
	if len(list.Containers) != 1 {
		return 0, fmt.Errorf("%d running containers %s in pod %s/%s", len(list.Containers), container, ns, pod)
	}
	st, err := c.rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: list.Containers[0].Id, Verbose: true})
	if err != nil {
		return 0, err
	}
	var info struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal([]byte(st.Info["info"]), &info); err != nil || info.Pid == 0 {
		return 0, fmt.Errorf("container %s of pod %s/%s: no pid in containerd's status (%v)", container, ns, pod, err)
	}
	return info.Pid, nil
}

// ContainerPID is the host PID of a running container's main process
// (haproxy's master for a haproxy container), for signalling it the way a
// crash or an OOM kill would.
func (c *Cluster) ContainerPID(ctx context.Context, ns, pod, container string) (int, error) {
	if c.cri == nil {
		return 0, fmt.Errorf("cluster: no node")
	}
	return c.cri.containerPID(ctx, ns, pod, container)
}
