#!/usr/bin/env bash
# Installs Debian's haproxy when it is missing (tests start the real binary).
set -euo pipefail
if command -v haproxy >/dev/null 2>&1; then exit 0; fi
echo "installing haproxy from Debian (apt-get, about 20 s)" >&2
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q haproxy >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q haproxy >/dev/null; }
haproxy -v | head -1 >&2
