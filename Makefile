# external-haproxy kit. `make demo` and `make test` work on a fresh machine:
# they install what they need (pinned tools into bin/, haproxy from Debian).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
GO ?= go
KUSTOMIZE_VERSION := v5.8.2
BIN := $(CURDIR)/bin
export PATH := $(BIN):$(PATH)
export GOTOOLCHAIN := local

.PHONY: all build tools haproxy haproxy-debian node-deps k8s-bins images test bench demo kpt-package fmt vet clean
all: build

build: ## build the function and the controller into bin/
	$(GO) build -o $(BIN)/external-haproxy-fn ./fn
	$(GO) build -o $(BIN)/haproxy-ingress-controller ./controller/cmd/haproxy-ingress-controller
	$(GO) build -o $(BIN)/echoserver ./test/echoserver

tools: $(BIN)/kustomize ## pinned standalone kustomize into bin/

$(BIN)/kustomize:
	@echo "installing kustomize $(KUSTOMIZE_VERSION) into $(BIN) (about 30 s)"
	GOBIN=$(BIN) $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

haproxy: haproxy-debian ## haproxy 2.6 from Debian and 3.0.11 built from Debian's source tarball (cached)
	@hack/haproxy30.sh >/dev/null

haproxy-debian: # haproxy 2.6 from Debian when missing: all the demo needs
	@hack/ensure-haproxy.sh

node-deps: # containerd, runc, CNI plugins, iptables, iproute2 from Debian when missing: the test node's parts
	@hack/ensure-node.sh

# kube-apiserver + etcd for the end-to-end tests, built once into a cache
# (5-8 minutes the first time, with progress lines; instant afterwards).
k8s-bins:
	@hack/k8s-bins.sh >/dev/null

# The test node's container images (pause, echo, haproxy 2.6 and 3.0, controller,
# function), built without Docker into a cache keyed by their inputs (about
# 5 min the first time, with progress lines; seconds afterwards).
images:
	@$(GO) run ./hack/images build >/dev/null

# The end-to-end tests that stress haproxy run a second time with the sidecar on 3.0,
# which comes first on PATH too, so that the controller's haproxy -c is the same version.
E2E_ON_30 := Reliab|Fault|Hostile|Endpoint|Restart
test: build tools haproxy k8s-bins ## every test (haproxy-facing ones on 2.6 and 3.0)
	K8S_BIN_DIR=$$(hack/k8s-bins.sh) KIT_BIN=$(BIN) KIT_HAPROXY_30=$$(hack/haproxy30.sh) $(GO) test -count=1 -timeout 30m ./...
	H30=$$(hack/haproxy30.sh) && PATH=$$(dirname $$H30):$$PATH K8S_BIN_DIR=$$(hack/k8s-bins.sh) KIT_BIN=$(BIN) KIT_E2E_HAPROXY=$$H30 \
		$(GO) test -count=1 -timeout 20m -run '$(E2E_ON_30)' ./test/e2e/

bench: build tools haproxy k8s-bins ## benchmarks with their figures
	K8S_BIN_DIR=$$(hack/k8s-bins.sh) KIT_BIN=$(BIN) KIT_HAPROXY_30=$$(hack/haproxy30.sh) $(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./...

demo: build tools node-deps ## the main job on a local node (make demo DEMO_ARGS=--keep leaves it running)
	GO=$(GO) hack/demo.sh $(DEMO_ARGS)

kpt-package: tools ## refresh the kpt package's copy of base/
	$(BIN)/kustomize build base > overlays/kpt/haproxy-ingress.yaml

fmt:
	gofmt -l -w fn controller test hack

vet:
	$(GO) vet ./...

clean:
	rm -rf $(BIN)
