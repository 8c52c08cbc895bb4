# external-haproxy kit. `make demo` and `make test` work on a fresh machine:
# they install what they need (pinned tools into bin/, haproxy from Debian).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
GO ?= go
KUSTOMIZE_VERSION := v5.8.2
BIN := $(CURDIR)/bin
export PATH := $(BIN):$(PATH)
export GOTOOLCHAIN := local

.PHONY: all build tools haproxy debian k8s-bins images argocd-bins test bench demo kpt-package fmt vet clean
all: build

build: ## build the function and the controller into bin/
	$(GO) build -o $(BIN)/external-haproxy-fn ./fn
	$(GO) build -o $(BIN)/haproxy-ingress-controller ./controller/cmd/haproxy-ingress-controller
	$(GO) build -o $(BIN)/echoserver ./test/echoserver

tools: $(BIN)/kustomize ## pinned standalone kustomize into bin/

$(BIN)/kustomize:
	@echo "installing kustomize $(KUSTOMIZE_VERSION) into $(BIN) (about 30 s)"
	GOBIN=$(BIN) $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

haproxy: debian ## haproxy 2.6 from Debian and 3.0.11 built from Debian's source tarball (cached)
	@hack/haproxy30.sh >/dev/null

debian: # Debian packages when missing: haproxy 2.6, containerd, runc, CNI plugins, iptables, mmdebstrap
	@hack/ensure-debian.sh

# etcd and the Kubernetes parts of the test node (apiserver, scheduler,
# controller-manager, kubelet, kube-proxy), built once into a cache
# (15-20 minutes the first time, with progress lines; instant afterwards).
k8s-bins:
	@hack/k8s-bins.sh >/dev/null

# The test node's container images (pause, echo, haproxy 2.6 and 3.0, controller,
# function), built without Docker into a cache keyed by their inputs (about
# 5 min the first time, with progress lines; seconds afterwards).
images: haproxy
	@$(GO) run ./hack/images build >/dev/null

# Argo CD's repo-server and cmp-server (v3.2.0, test/argocdbin) for test/overlays'
# TestArgoCD, built the same way (about 5 minutes the first time).
argocd-bins:
	@hack/argocd-bins.sh >/dev/null

# The end-to-end tests that stress haproxy run a second time with the sidecar's
# image on haproxy 3.0 (the first run uses 2.6); each run logs its version.
E2E_ON_30 := Reliab|Fault|Hostile|Endpoint|Restart|Bind
test: build tools haproxy k8s-bins images argocd-bins ## every test (haproxy-facing ones on 2.6 and 3.0)
	@echo "test: every package; end-to-end with the sidecar on haproxy 2.6.12, driver/pipeline on 2.6 and 3.0"
	K8S_BIN_DIR=$$(hack/k8s-bins.sh) ARGOCD_BIN_DIR=$$(hack/argocd-bins.sh) KIT_BIN=$(BIN) KIT_HAPROXY_30=$$(hack/haproxy30.sh) \
		$(GO) test -count=1 -timeout 40m ./...
	@echo "test: end-to-end again with the sidecar on haproxy 3.0.11: $(E2E_ON_30)"
	K8S_BIN_DIR=$$(hack/k8s-bins.sh) KIT_BIN=$(BIN) KIT_E2E_HAPROXY=3.0.11 \
		$(GO) test -count=1 -timeout 30m -run '$(E2E_ON_30)' ./test/e2e/

bench: build tools haproxy k8s-bins images ## benchmarks with their figures
	K8S_BIN_DIR=$$(hack/k8s-bins.sh) KIT_BIN=$(BIN) KIT_HAPROXY_30=$$(hack/haproxy30.sh) $(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./...

demo: build tools haproxy k8s-bins images ## the main job, locally (make demo DEMO_ARGS=--keep leaves it running)
	GO=$(GO) hack/demo.sh $(DEMO_ARGS)

kpt-package: tools ## refresh the kpt package's copy of base/
	$(BIN)/kustomize build base > overlays/kpt/haproxy-ingress.yaml

fmt:
	gofmt -l -w fn controller test hack

vet:
	$(GO) vet ./...

clean:
	rm -rf $(BIN)
