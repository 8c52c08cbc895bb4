package cluster

import (
	"context"
	"io"

	"github.com/external-haproxy/kit/test/cachedbin"
)

// BinDirEnv names the directory holding etcd and the Kubernetes binaries.
// `export K8S_BIN_DIR=$(hack/k8s-bins.sh)` sets it for a whole shell session.
const BinDirEnv = "K8S_BIN_DIR"

var binaries = cachedbin.Set{Env: BinDirEnv, Script: "hack/k8s-bins.sh", Names: []string{
	"etcd", "kube-apiserver", "kube-scheduler", "kube-controller-manager", "kubelet", "kube-proxy"}}

// FindBinaries returns a directory with etcd and the Kubernetes binaries: $K8S_BIN_DIR
// if set, otherwise the output of hack/k8s-bins.sh (see cachedbin.Set.Find).
func FindBinaries(ctx context.Context, progress io.Writer) (string, error) {
	return binaries.Find(ctx, progress)
}

func checkBinaries(dir string) error { return binaries.Check(dir) }
