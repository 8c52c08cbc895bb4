#!/usr/bin/env bash
# `make demo`: build hack/demo and run it from the repository root. Needs root
# and what `make demo` provides first: bin/ (the function and kustomize) and the
# node's Debian packages (hack/ensure-debian.sh: containerd, runc, CNI plugins,
# iptables). The Kubernetes binaries and the node's images are built into
# ~/.cache/external-haproxy-kit on first use. Flags pass through:
# hack/demo.sh --keep [--haproxy 3.0.11]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# A built binary, not `go run`: go run does not pass SIGTERM on, and the demo
# must get it to clean up.
"${GO:-go}" build -o bin/demo ./hack/demo
exec bin/demo "$@"
