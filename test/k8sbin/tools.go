//go:build tools

// Package k8sbin only pins the versions of the Kubernetes parts (etcd, the
// control plane, kubelet and kube-proxy) that hack/k8s-bins.sh builds for the
// tests and the demo. It is a separate module so that the
// product module never inherits k8s.io/kubernetes and its replace directives.
package k8sbin

import (
	_ "go.etcd.io/etcd/server/v3"                     // etcd's main package (server/main.go)
	_ "k8s.io/kubernetes/cmd/kube-apiserver"          // the main packages hack/k8s-bins.sh builds
	_ "k8s.io/kubernetes/cmd/kube-controller-manager" //
	_ "k8s.io/kubernetes/cmd/kube-proxy"              //
	_ "k8s.io/kubernetes/cmd/kube-scheduler"          //
	_ "k8s.io/kubernetes/cmd/kubelet"                 //
)
