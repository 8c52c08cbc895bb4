package images

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// suite is the Debian release of the haproxy images' base. It must be the
// host's: hack/haproxy30.sh links haproxy 3.0 against the host's libraries.
const suite = "bookworm"

// haproxyRuntime are the Debian packages the haproxy binaries load at run
// time (Build checks each binary's ELF NEEDED entries against the base), and
// ca-certificates, which the official image has for `ca-file @system-ca`.
var haproxyRuntime = []string{
	"ca-certificates",
	"libcrypt1",
	"liblua5.3-0",               // Debian's haproxy 2.6
	"liblua5.4-0",               // haproxy 3.0 (hack/haproxy30.sh)
	"libopentracing-c-wrapper0", // Debian's haproxy 2.6 has the OpenTracing filter
	"libpcre2-8-0",
	"libssl3",
	"libsystemd0",
}

// apkToDebian maps each Alpine package that a Dockerfile's final stage
// `apk add`s to the Debian package that the local base installs instead.
var apkToDebian = map[string]string{
	"dumb-init": "dumb-init", // /usr/bin/dumb-init in both
}

// deb is a cached Debian base: the rootfs tarball of the haproxy images, and
// Debian's haproxy 2.6 taken from the same apt state.
type deb struct {
	key      string
	rootfs   string // gzipped rootfs tarball
	haproxy  string // Debian's haproxy binary (2.6)
	errors   string // Debian's haproxy error pages (/etc/haproxy/errors)
	version  string // the haproxy package's Debian version
	packages []string
}

// debianBase returns the Debian base, making it first with mmdebstrap when
// its cache dir, keyed by the package list, the mmdebstrap arguments and the
// host's apt sources, is missing. The essential variant is the smallest
// standard one (no apt): enough for a shell, the official image's entrypoint
// script and kubectl exec, plus the libraries haproxy needs.
func debianBase(ctx context.Context, apk []string, p *progress) (*deb, error) {
	pkgs := slices.Clone(haproxyRuntime)
	for _, a := range apk {
		d, ok := apkToDebian[a]
		if !ok {
			return nil, fmt.Errorf("apk package %q has no Debian counterpart in apkToDebian", a)
		}
		pkgs = append(pkgs, d)
	}
	slices.Sort(pkgs)
	pkgs = slices.Compact(pkgs)
	sources, err := hostSources()
	if err != nil {
		return nil, err
	}
	const debs = "/debs" // $OUT/debs, filled by the download hook below
	args := []string{
		"--variant=essential",
		"--include=" + strings.Join(pkgs, ","),
		// The host's mirror may be a snapshot whose Release files expired;
		// the host's apt is configured the same way.
		`--aptopt=Acquire::Check-Valid-Until "false"`,
		// As in Debian's slim images: no documentation or translations.
		"--dpkgopt=path-exclude=/usr/share/doc/*",
		"--dpkgopt=path-exclude=/usr/share/man/*",
		"--dpkgopt=path-exclude=/usr/share/info/*",
		"--dpkgopt=path-exclude=/usr/share/locale/*",
		// The official haproxy image's user (uid and gid 99) and directories.
		`--customize-hook=echo 'haproxy:x:99:99:haproxy:/var/lib/haproxy:/usr/sbin/nologin' >>"$1/etc/passwd"`,
		`--customize-hook=echo 'haproxy:x:99:' >>"$1/etc/group"`,
		`--customize-hook=mkdir -p "$1/var/lib/haproxy" "$1/usr/local/etc/haproxy" && chown 99:99 "$1/var/lib/haproxy"`,
		// haproxy 2.6 comes from the same apt state as the libraries it
		// links against: mmdebstrap's own apt config is in effect in hooks.
		// As root, as the cache dir may be in a $HOME that _apt cannot enter.
		`--customize-hook=cd "$OUT` + debs + `" && apt-get -o APT::Sandbox::User=root download haproxy`,
		suite,
	}
	h := sha256.New()
	fmt.Fprintf(h, "%q\n", args)
	for _, s := range sources {
		data, err := os.ReadFile(s)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "%s %d\n%s", s, len(data), data)
	}
	d := &deb{key: fmt.Sprintf("%x", h.Sum(nil))[:12], packages: pkgs}
	dir := filepath.Join(cacheRoot(), "debian-"+suite+"-"+d.key)
	d.rootfs, d.haproxy, d.errors = filepath.Join(dir, "rootfs.tar.gz"), filepath.Join(dir, "haproxy26/haproxy"), filepath.Join(dir, "haproxy26/errors")
	err = cached(ctx, dir, p, func(tmp string) error {
		if os.Geteuid() != 0 {
			return fmt.Errorf("the Debian base is made with mmdebstrap as root (files owned by uid 99); run as root")
		}
		if err := ensureCommand(ctx, p, "mmdebstrap", "mmdebstrap"); err != nil {
			return err
		}
		if err := os.Mkdir(filepath.Join(tmp, debs), 0o755); err != nil {
			return err
		}
		p.say("Debian base: %s, essential variant, with %s", suite, strings.Join(pkgs, " "))
		p.begin("mmdebstrap (about 2 min)")
		out := p.lines("mmdebstrap: ")
		defer out.Close()
		// mmdebstrap [OPTION...] SUITE TARGET [MIRROR...]; a mirror may be a sources file.
		cmd := exec.CommandContext(ctx, "mmdebstrap", slices.Concat(args, []string{filepath.Join(tmp, "rootfs.tar.gz")}, sources)...)
		cmd.Env = append(os.Environ(), "OUT="+tmp)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("mmdebstrap: %w", err)
		}
		p.begin("extracting Debian's haproxy")
		matches, _ := filepath.Glob(filepath.Join(tmp, debs, "haproxy_*.deb"))
		if len(matches) != 1 {
			return fmt.Errorf("apt-get download haproxy left %q", matches)
		}
		x := filepath.Join(tmp, "x")
		if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", matches[0], x).CombinedOutput(); err != nil {
			return fmt.Errorf("dpkg-deb -x: %w\n%s", err, out)
		}
		if err := os.MkdirAll(filepath.Join(tmp, "haproxy26"), 0o755); err != nil {
			return err
		}
		for from, to := range map[string]string{"usr/sbin/haproxy": "haproxy26/haproxy", "etc/haproxy/errors": "haproxy26/errors"} {
			if err := os.Rename(filepath.Join(x, from), filepath.Join(tmp, to)); err != nil {
				return err
			}
		}
		version := regexp.MustCompile(`^haproxy_([^_]+)_`).FindStringSubmatch(filepath.Base(matches[0]))
		if version == nil || !strings.HasPrefix(version[1], "2.6.12-") {
			return fmt.Errorf("%s: want Debian's haproxy 2.6.12", matches[0])
		}
		for _, junk := range []string{x, filepath.Join(tmp, debs)} {
			if err := os.RemoveAll(junk); err != nil {
				return err
			}
		}
		return os.WriteFile(filepath.Join(tmp, "haproxy26/version"), []byte(version[1]+"\n"), 0o644)
	})
	if err != nil {
		return nil, err
	}
	v, err := os.ReadFile(filepath.Join(dir, "haproxy26/version"))
	d.version = strings.TrimSpace(string(v))
	return d, err
}

// hostSources are the host's apt source files for suite: the base is made
// from the mirrors the host's apt uses, the way the host reaches them.
func hostSources() ([]string, error) {
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	lists, _ := filepath.Glob("/etc/apt/sources.list.d/*.list")
	files = append(append([]string{"/etc/apt/sources.list"}, files...), lists...)
	word := regexp.MustCompile(`(?m)^[^#]*\b` + suite + `\b`)
	var keep []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err == nil && word.Match(data) {
			keep = append(keep, f)
		}
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("no apt source for Debian %s in /etc/apt", suite)
	}
	return keep, nil
}

// ensureCommand installs a Debian package when its command is missing.
func ensureCommand(ctx context.Context, p *progress, command, pkg string) error {
	if _, err := exec.LookPath(command); err == nil {
		return nil
	}
	p.begin("installing %s from Debian", pkg)
	install := func() error {
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "-q", pkg)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get install %s: %w\n%s", pkg, err, out)
		}
		return nil
	}
	if install() == nil {
		return nil
	}
	if out, err := exec.CommandContext(ctx, "apt-get", "update", "-q").CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get update: %w\n%s", err, out)
	}
	return install()
}
