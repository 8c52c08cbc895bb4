//go:build tools

// Package k8sbin only pins the versions of kube-apiserver and etcd that
// hack/k8s-bins.sh builds for the tests. It is a separate module so that the
// product module never inherits k8s.io/kubernetes and its replace directives.
package k8sbin

import (
	_ "go.etcd.io/etcd/server/v3"            // etcd's main package (server/main.go)
	_ "k8s.io/kubernetes/cmd/kube-apiserver" // kube-apiserver's main package
)
