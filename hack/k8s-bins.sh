#!/usr/bin/env bash
# Build etcd and the Kubernetes parts of the tests' cluster (kube-apiserver,
# kube-scheduler, kube-controller-manager, kubelet, kube-proxy; versions pinned by
# test/k8sbin/go.mod) from the Go module proxy into a cache dir keyed by
# test/k8sbin/go.mod+go.sum, and print that dir on stdout. Progress goes to stderr
# so `K8S_BIN_DIR=$(hack/k8s-bins.sh)` works.
#
# The first build takes about 15-20 minutes on 2 cores; later calls with the same
# go.mod/go.sum print the dir at once. K8S_BIN_DIR overrides the output dir.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/cached-build.sh
. "$ROOT/hack/lib/cached-build.sh"
MOD=$ROOT/test/k8sbin
K8S_VERSION=$(awk '$1=="k8s.io/kubernetes"{print $2; exit}' "$MOD/go.mod")
OUT=${K8S_BIN_DIR:-$(cache_root)/k8s-bin-$K8S_VERSION-$(cache_key "$MOD/go.mod" "$MOD/go.sum")}

# Without these -X flags /version reports "v0.0.0-master+$Format:%H$", which
# kubectl and any client that semver-parses the server version reject.
V=${K8S_VERSION#v}
MAJOR=${V%%.*}
MINOR=${V#*.}
MINOR=${MINOR%%.*}
LDFLAGS="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
LDFLAGS+=" -X k8s.io/component-base/version.gitMajor=$MAJOR -X k8s.io/component-base/version.gitMinor=$MINOR"
LDFLAGS+=" -X k8s.io/component-base/version.gitTreeState=clean"

PARTS=(kube-apiserver kube-scheduler kube-controller-manager kubelet kube-proxy)

build() {
	local tmp=$1
	cd "$MOD"
	step "downloading modules"
	go mod download >&2
	# CGO_ENABLED=0 as in Kubernetes' own release builds: static binaries.
	for b in "${PARTS[@]}"; do
		step "building $b"
		CGO_ENABLED=0 go build -trimpath -ldflags="$LDFLAGS" -o "$tmp/$b" "k8s.io/kubernetes/cmd/$b" >&2
	done
	step "building etcd"
	# -o names the file: with a directory target the binary would be called "server".
	go build -trimpath -ldflags="-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3 >&2
	step "checking versions"
	for b in "${PARTS[@]}"; do "$tmp/$b" --version >&2; done
	# Not piped to head: etcd would die of SIGPIPE and fail the build.
	"$tmp/etcd" --version >&2
}

cached_build k8s-bins "$OUT" "building etcd and ${PARTS[*]} $K8S_VERSION into $OUT (first time: ~15-20 min on 2 cores)" \
	build etcd "${PARTS[@]}"
