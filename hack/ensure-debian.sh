#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo run for real when they
# are missing: haproxy 2.6; iproute2 and util-linux (network namespaces,
# nsenter); containerd, runc, the CNI plugins and iptables for the node's
# kubelet and kube-proxy; mmdebstrap for the images' Debian base. Idempotent.
set -euo pipefail
missing=()
need() { # need COMMAND-OR-PATH PACKAGE
	if [[ $1 == /* ]]; then [ -e "$1" ] || missing+=("$2"); else command -v "$1" >/dev/null 2>&1 || missing+=("$2"); fi
}
need haproxy haproxy
need ip iproute2
need nsenter util-linux
need containerd containerd
need runc runc
need /usr/lib/cni/bridge containernetworking-plugins
need iptables iptables
need mmdebstrap mmdebstrap
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing ${missing[*]} from Debian (apt-get, about 30 s)" >&2
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
	{ $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "${missing[@]}" >/dev/null; }
haproxy -v | head -1 >&2
containerd --version >&2
