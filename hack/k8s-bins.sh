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
MOD=$ROOT/test/k8sbin
K8S_VERSION=$(awk '$1=="k8s.io/kubernetes"{print $2; exit}' "$MOD/go.mod")
KEY=$(cat "$MOD/go.mod" "$MOD/go.sum" | sha256sum | cut -c1-12)
OUT=${K8S_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/external-haproxy-kit/k8s-bin-$K8S_VERSION-$KEY}

BINS=(etcd kube-apiserver kube-scheduler kube-controller-manager kubelet kube-proxy)
complete() {
	for b in "${BINS[@]}"; do [ -x "$OUT/$b" ] || return 1; done
}
if complete; then
	echo "$OUT"
	exit 0
fi

# Without these -X flags /version reports "v0.0.0-master+$Format:%H$", which
# kubectl and any client that semver-parses the server version reject.
V=${K8S_VERSION#v}
MAJOR=${V%%.*}
MINOR=${V#*.}
MINOR=${MINOR%%.*}
LDFLAGS="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
LDFLAGS+=" -X k8s.io/component-base/version.gitMajor=$MAJOR -X k8s.io/component-base/version.gitMinor=$MINOR"
LDFLAGS+=" -X k8s.io/component-base/version.gitTreeState=clean"

# Test packages run in parallel and may all call this on a cold cache: the first
# one builds, the others wait for it instead of each spending minutes on a copy.
mkdir -p "$(dirname "$OUT")"
exec 9>"$OUT.lock"
if ! flock -n 9; then
	echo "k8s-bins: another build of $OUT is running, waiting for it" >&2
	flock 9
fi
if complete; then
	echo "$OUT"
	exit 0
fi

# Build into a private temp dir and rename at the end, so a killed build never
# leaves a half-filled cache dir that a later call would trust.
TMP=$(mktemp -d "$OUT.tmp.XXXXXX")
STEP_FILE=$TMP/.step
TICKER=
cleanup() {
	if [ -n "$TICKER" ]; then kill "$TICKER" 2>/dev/null || true; fi
	rm -rf "$TMP"
}
trap cleanup EXIT

# go build is silent for minutes while compiling; a ticker shows it is alive.
START=$(date +%s)
step() {
	echo "$1" >"$STEP_FILE"
	echo "k8s-bins: [$(($(date +%s) - START))s] $1" >&2
}
# The ticker must not leave a sleeping child holding stdout/stderr open after the
# script ends: that would stall a caller reading them (`$(hack/k8s-bins.sh)`).
(
	trap 'kill "$SLEEPER" 2>/dev/null; exit 0' TERM
	while :; do
		sleep 20 &
		SLEEPER=$!
		wait "$SLEEPER"
		echo "k8s-bins: [$(($(date +%s) - START))s] still $(cat "$STEP_FILE" 2>/dev/null)" >&2
	done
) >/dev/null &
TICKER=$!

echo "k8s-bins: building ${BINS[*]} ($K8S_VERSION) into $OUT (first time: ~15-20 min on 2 cores)" >&2
cd "$MOD"
step "downloading modules"
go mod download >&2
# CGO_ENABLED=0 as in Kubernetes' own release builds: static binaries.
for b in kube-apiserver kube-scheduler kube-controller-manager kubelet kube-proxy; do
	step "building $b"
	CGO_ENABLED=0 go build -trimpath -ldflags="$LDFLAGS" -o "$TMP/$b" "k8s.io/kubernetes/cmd/$b" >&2
done
step "building etcd"
# -o names the file: with a directory target the binary would be called "server".
go build -trimpath -ldflags="-s -w" -o "$TMP/etcd" go.etcd.io/etcd/server/v3 >&2
step "checking versions"
for b in kube-apiserver kube-scheduler kube-controller-manager kubelet kube-proxy; do "$TMP/$b" --version >&2; done
"$TMP/etcd" --version >&2
rm -f "$STEP_FILE"

chmod 755 "$TMP" # mktemp makes it private; the binaries are not secret
rm -rf "$OUT"
mv -T "$TMP" "$OUT"
echo "k8s-bins: done in $(($(date +%s) - START))s" >&2
echo "$OUT"
