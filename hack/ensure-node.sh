#!/usr/bin/env bash
# Installs what the test node runs and does not build itself, when missing:
# containerd (with ctr and its CRI plugin), runc, the CNI plugins
# (/usr/lib/cni), iptables for kube-proxy, iproute2 and util-linux's nsenter
# for the node's network namespace. All from Debian; idempotent.
set -euo pipefail
missing=()
need() { # need COMMAND-OR-PATH PACKAGE
	if [[ $1 == /* ]]; then [ -e "$1" ] && return 0; else command -v "$1" >/dev/null 2>&1 && return 0; fi
	[[ " ${missing[*]} " == *" $2 "* ]] || missing+=("$2")
}
need containerd containerd
need ctr containerd
need runc runc
for p in bridge host-local portmap loopback; do need /usr/lib/cni/$p containernetworking-plugins; done
need iptables iptables
need ip iproute2
need nsenter util-linux
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing ${missing[*]} from Debian (apt-get, about 30 s)" >&2
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
	{ $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "${missing[@]}" >/dev/null; }
containerd --version >&2
