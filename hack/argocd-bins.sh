#!/usr/bin/env bash
# Build Argo CD's repo-server and cmp-server (version pinned by test/argocdbin/go.mod),
# with a Redis stand-in and a GenerateManifest client, and the kustomize release that
# this Argo CD version bundles, from the Go module proxy into a cache dir keyed by
# test/argocdbin/{go.mod,go.sum,main.go} and this script, and print that dir on
# stdout. Progress goes to stderr so `ARGOCD_BIN_DIR=$(hack/argocd-bins.sh)` works.
#
# The first build takes about 5 minutes on 2 cores; later calls with the same
# inputs print the dir at once. ARGOCD_BIN_DIR overrides the output dir.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/cached-build.sh
. "$ROOT/hack/lib/cached-build.sh"
MOD=$ROOT/test/argocdbin
VERSION=$(awk '$1=="github.com/argoproj/argo-cd/v3"{print $2; exit}' "$MOD/go.mod")
OUT=${ARGOCD_BIN_DIR:-$(cache_root)/argocd-bin-$VERSION-$(cache_key "$MOD/go.mod" "$MOD/go.sum" "$MOD/main.go" "$ROOT/hack/argocd-bins.sh")}
NAMES=(argocd-repo-server argocd-cmp-server argocd-redis argocd-generate)

build() {
	local tmp=$1 n
	cd "$MOD"
	step "downloading modules"
	go mod download >&2
	step "building argocd $VERSION (repo-server, cmp-server, redis stand-in, client)"
	# The version Argo CD logs at start and reports on its version API.
	go build -trimpath -ldflags="-s -w -X github.com/argoproj/argo-cd/v3/common.version=${VERSION#v}" -o "$tmp/argocd" . >&2
	for n in "${NAMES[@]}"; do
		ln -s argocd "$tmp/$n"
	done
	# Argo CD's image ships the kustomize of hack/tool-versions.sh; the
	# repo-server of the tests runs that one for Kustomize Applications.
	local kv
	kv=$(sed -n 's/^kustomize5_version=//p' "$(go list -m -f '{{.Dir}}' github.com/argoproj/argo-cd/v3)/hack/tool-versions.sh")
	if [ -z "$kv" ]; then
		echo "argocd-bins: no kustomize5_version in Argo CD $VERSION's hack/tool-versions.sh" >&2
		return 1
	fi
	step "installing kustomize v$kv (bundled with Argo CD $VERSION)"
	(cd "$tmp" && GOBIN=$tmp go install "sigs.k8s.io/kustomize/kustomize/v5@v$kv" >&2)
	step "checking"
	for n in argocd-repo-server argocd-cmp-server; do
		"$tmp/$n" --help >/dev/null
	done
	"$tmp/kustomize" version >&2
}

cached_build argocd-bins "$OUT" "building Argo CD $VERSION repo-server + cmp-server into $OUT (first time: ~5 min on 2 cores)" \
	build argocd "${NAMES[@]}" kustomize
