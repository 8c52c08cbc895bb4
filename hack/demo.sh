#!/usr/bin/env bash
# `make demo`: build hack/demo and run it from the repository root. Needs what
# `make demo` builds first (bin/: the function, the controller, echoserver,
# kustomize) and root. Flags pass through: hack/demo.sh --keep
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# A built binary, not `go run`: go run does not pass SIGTERM on, and the demo
# must get it to clean up.
"${GO:-go}" build -o bin/demo ./hack/demo
exec bin/demo "$@"
