# shellcheck shell=bash
# Sourced by the hack/gen-*-gomod.sh generators.

# gomod_of MODULE VERSION: print the path of MODULE@VERSION's go.mod in the module
# cache, downloading it first. `go mod download` goes through GOPROXY/GOFLAGS like
# any build does, so this works wherever building works (no curl, no hard-coded
# proxy URL). It runs outside any module so the caller's go.mod cannot influence
# the lookup.
gomod_of() {
	local scratch file
	scratch=$(mktemp -d)
	file=$(cd "$scratch" && go mod download -json "$1@$2" |
		sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
	rm -rf "$scratch"
	if [ ! -f "$file" ]; then
		echo "could not fetch go.mod of $1@$2" >&2
		return 1
	fi
	echo "$file"
}
