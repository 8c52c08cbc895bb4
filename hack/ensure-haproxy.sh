#!/usr/bin/env bash
# Installs what the tests run for real when it is missing: Debian's haproxy
# and iproute2 (ip netns for the end-to-end backends). Idempotent.
set -euo pipefail
missing=()
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing ${missing[*]} from Debian (apt-get, about 20 s)" >&2
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
	{ $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "${missing[@]}" >/dev/null; }
haproxy -v | head -1 >&2
