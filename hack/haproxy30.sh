#!/usr/bin/env bash
# Build haproxy 3.0.11 from Debian's own source tarball (trixie's
# haproxy_3.0.11.orig.tar.gz) into a cache dir keyed by the tarball and the
# build flags, and print the binary's path on stdout. Progress goes to stderr
# so `KIT_HAPROXY_30=$(hack/haproxy30.sh)` works.
#
# The first build takes about 4 CPU-minutes: ~2 min on 2 idle cores, 7-8 min
# when they are busy; later calls print the path at once. Tests run against
# this and Debian bookworm's haproxy 2.6.
set -euo pipefail

VERSION=3.0.11
TARBALL=haproxy_$VERSION.orig.tar.gz
# The tarball's sha256 as listed in trixie's signed Sources index; checked
# here too, so a changed upstream file fails instead of building something else.
SHA256=a133e2d550c5fd9a849b5c7ab17bb945bcdad209ca140d41f45ebf31943ae783
MAKE_ARGS=(TARGET=linux-glibc USE_OPENSSL=1 USE_PCRE2=1 USE_LUA=1 USE_PROMEX=1)
BUILD_DEPS=(build-essential libssl-dev libpcre2-dev liblua5.4-dev)
KEY=$(echo "$SHA256 ${MAKE_ARGS[*]}" | sha256sum | cut -c1-12)
OUT=${XDG_CACHE_HOME:-$HOME/.cache}/external-haproxy-kit/haproxy-$VERSION-$KEY

# A cached binary counts only if it still runs (its shared libraries may have
# been removed since it was built).
cached() { [ -x "$OUT/haproxy" ] && "$OUT/haproxy" -v >/dev/null 2>&1; }
if cached; then
	echo "$OUT/haproxy"
	exit 0
fi

# Test packages run in parallel and may all call this on a cold cache: the
# first one builds, the others wait for it.
mkdir -p "$(dirname "$OUT")"
exec 9>"$OUT.lock"
if ! flock -n 9; then
	echo "haproxy30: another build of $OUT is running, waiting for it" >&2
	flock 9
fi
if cached; then
	echo "$OUT/haproxy"
	exit 0
fi

START=$(date +%s)
step() { echo "haproxy30: [$(($(date +%s) - START))s] $1" >&2; }
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

# Build into a private temp dir and rename at the end, so a killed build never
# leaves a half-filled cache dir that a later call would trust.
TMP=$(mktemp -d "$OUT.tmp.XXXXXX")
# apt downloads as its sandbox user _apt, which cannot enter a private $HOME.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/haproxy30.XXXXXX")
trap 'rm -rf "$TMP" "$WORK"' EXIT
chmod 755 "$WORK"

echo "haproxy30: building haproxy $VERSION into $OUT (first time: ~2 min on 2 idle cores, 7-8 min when busy)" >&2
missing=()
for p in "${BUILD_DEPS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	step "installing build deps from bookworm: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
		{ $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

# A private deb-src list, index and cache: the machine's own apt sources and
# lists stay as they are (bookworm, snapshot-pinned), and nothing is left
# behind but the binary.
step "fetching $TARBALL from trixie's sources"
APT=$WORK/apt
SRC=$WORK/src
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$SRC"
cat >"$APT/trixie-src.sources" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
APT_OPTS=(-q -o "Dir::Etc::sourcelist=$APT/trixie-src.sources" -o Dir::Etc::sourceparts=-
	-o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache")
apt-get "${APT_OPTS[@]}" update >/dev/null
DEB_VERSION=$(apt-cache "${APT_OPTS[@]}" showsrc haproxy | awk '$1=="Version:"{print $2}' | grep "^$VERSION-" | sort -V | tail -1 || true)
if [ -z "$DEB_VERSION" ]; then
	echo "haproxy30: trixie's Sources list no haproxy $VERSION-*" >&2
	exit 1
fi
chown _apt "$SRC" 2>/dev/null || true
# The .dsc and the Debian diff of a revision may 404 on the mirror while its
# orig tarball downloads; only the tarball is needed, and it is checked below.
(cd "$SRC" && apt-get "${APT_OPTS[@]}" source --download-only "haproxy=$DEB_VERSION" >"$WORK/apt-source.log" 2>&1) || true
if [ ! -f "$SRC/$TARBALL" ]; then
	echo "haproxy30: $TARBALL (haproxy $DEB_VERSION) was not downloaded:" >&2
	cat "$WORK/apt-source.log" >&2
	exit 1
fi
if ! echo "$SHA256  $SRC/$TARBALL" | sha256sum -c --quiet - >&2; then
	echo "haproxy30: $TARBALL does not match the pinned sha256 $SHA256" >&2
	exit 1
fi

step "building (make -j2 ${MAKE_ARGS[*]})"
tar -xzf "$SRC/$TARBALL" -C "$SRC"
SRC=$SRC/haproxy-$VERSION
# make prints one line per compiled file: a count every 40 files shows it is alive.
count() {
	local n=0 line
	while IFS= read -r line; do
		case $line in *" CC "*)
			n=$((n + 1))
			[ $((n % 40)) -ne 0 ] || step "compiled $n files"
			;;
		esac
	done
}
if ! make -C "$SRC" -j2 "${MAKE_ARGS[@]}" 2>&1 | tee "$WORK/make.log" | count; then
	tail -30 "$WORK/make.log" >&2
	exit 1
fi
cp "$SRC/haproxy" "$TMP/haproxy"
"$TMP/haproxy" -v | head -1 >&2

chmod 755 "$TMP" # mktemp makes it private; the binary is not secret
rm -rf "$OUT"
mv -T "$TMP" "$OUT"
step "done"
echo "$OUT/haproxy"
