# shellcheck shell=bash
# Sourced by the hack/*-bins.sh scripts: a build of slow-to-compile test binaries
# into a cache dir that is keyed by its inputs, locked, filled atomically and
# announced with progress lines on stderr (stdout carries only the dir, so that
# `DIR=$(hack/x-bins.sh)` works).

# cache_key FILE...: 12 hex digits of the files' sha256, for the cache dir name.
cache_key() {
	cat "$@" | sha256sum | cut -c1-12
}

# cache_root: where the caches live.
cache_root() {
	echo "${XDG_CACHE_HOME:-$HOME/.cache}/external-haproxy-kit"
}

# cached_build NAME OUT ANNOUNCE BUILD_FN FILE...
#
# Prints OUT on stdout once OUT holds every FILE as an executable. If it does
# not, BUILD_FN runs with a fresh private temp dir as $1, which it fills with
# the FILEs; it calls `step "what"` before each long step. ANNOUNCE is the
# first progress line. NAME prefixes the progress lines.
cached_build() {
	local name=$1 out=$2 announce=$3 build_fn=$4
	shift 4
	if _cached_build_complete "$out" "$@"; then
		echo "$out"
		return 0
	fi

	# Test packages run in parallel and may all call this on a cold cache: the
	# first one builds, the others wait for it instead of each spending minutes
	# on a copy.
	mkdir -p "$(dirname "$out")"
	exec 9>"$out.lock"
	if ! flock -n 9; then
		echo "$name: another build of $out is running, waiting for it" >&2
		flock 9
	fi
	if _cached_build_complete "$out" "$@"; then
		echo "$out"
		return 0
	fi

	# Build into a private temp dir and rename at the end, so a killed build
	# never leaves a half-filled cache dir that a later call would trust.
	_CB_NAME=$name
	_CB_TMP=$(mktemp -d "$out.tmp.XXXXXX")
	_CB_STEP_FILE=$_CB_TMP/.step
	_CB_TICKER=
	_CB_START=$(date +%s)
	trap _cached_build_cleanup EXIT

	# go build is silent for minutes while compiling; a ticker shows it is alive.
	# It must not leave a sleeping child holding stdout/stderr open after the
	# script ends: that would stall a caller reading them (`$(hack/x-bins.sh)`).
	(
		trap 'kill "$SLEEPER" 2>/dev/null; exit 0' TERM
		while :; do
			sleep 20 &
			SLEEPER=$!
			wait "$SLEEPER"
			echo "$name: [$(($(date +%s) - _CB_START))s] still $(cat "$_CB_STEP_FILE" 2>/dev/null)" >&2
		done
	) >/dev/null &
	_CB_TICKER=$!

	echo "$name: $announce" >&2
	"$build_fn" "$_CB_TMP"
	rm -f "$_CB_STEP_FILE"
	if ! _cached_build_complete "$_CB_TMP" "$@"; then
		echo "$name: the build did not produce $* in $_CB_TMP" >&2
		return 1
	fi

	chmod 755 "$_CB_TMP" # mktemp makes it private; the binaries are not secret
	rm -rf "$out"
	mv -T "$_CB_TMP" "$out"
	echo "$name: done in $(($(date +%s) - _CB_START))s" >&2
	echo "$out"
}

# step WHAT: a progress line, and what the ticker repeats until the next step.
step() {
	echo "$1" >"$_CB_STEP_FILE"
	echo "$_CB_NAME: [$(($(date +%s) - _CB_START))s] $1" >&2
}

_cached_build_complete() {
	local dir=$1 f
	shift
	for f in "$@"; do
		[ -x "$dir/$f" ] || return 1
	done
}

_cached_build_cleanup() {
	if [ -n "$_CB_TICKER" ]; then kill "$_CB_TICKER" 2>/dev/null || true; fi
	rm -rf "$_CB_TMP"
}
