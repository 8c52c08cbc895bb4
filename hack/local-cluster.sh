#!/usr/bin/env bash
# Run the tests' throw-away cluster in the background: etcd, kube-apiserver,
# kube-scheduler, kube-controller-manager, containerd, a kubelet and
# kube-proxy, all in a network namespace of its own (the apiserver and the
# node at 10.213.N.2), with the locally built images imported. Needs root.
#
#   hack/local-cluster.sh start DIR   # waits until the node is Ready, prints DIR/kubeconfig
#   hack/local-cluster.sh stop DIR
#
# DIR holds certificates, etcd data, logs, pid files and the admin kubeconfig.
# The work is done by hack/localcluster (package test/cluster), so scripts and
# tests share one code path.
set -euo pipefail

if [ $# -ne 2 ] || { [ "$1" != start ] && [ "$1" != stop ]; }; then
	echo "usage: $0 start|stop DIR" >&2
	exit 2
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)

if [ "$1" = start ] && [ -z "${K8S_BIN_DIR:-}" ]; then
	# Build or find the binaries here so a first build shows its progress.
	K8S_BIN_DIR=$("$ROOT/hack/k8s-bins.sh")
	export K8S_BIN_DIR
fi
cd "$ROOT"
exec go run ./hack/localcluster "$1" "$2"
