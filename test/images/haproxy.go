package images

import (
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// entrypoint behaves like the official haproxy image's docker-entrypoint.sh:
// arguments that start with a dash are haproxy's, and haproxy run this way
// gets -W (master-worker) and -db (foreground), as a container needs.
const entrypoint = `#!/bin/sh
set -e
case "$1" in
-*) set -- haproxy "$@" ;;
esac
if [ "$1" = haproxy ]; then
	shift
	set -- haproxy -W -db "$@"
fi
exec "$@"
`

// haproxy is an image laid out like the official haproxy image (the
// binary at /usr/local/sbin/haproxy, config in /usr/local/etc/haproxy, its
// error pages, user 99, workdir /var/lib/haproxy, SIGUSR1 as stop signal
// for a soft stop) on the Debian base. Like the official binary it has no
// file capabilities: a non-root haproxy cannot bind ports below 1024.
func (b *builder) haproxy(binary, version string) (v1.Image, error) {
	missing, err := missingLibs(binary, b.deb.rootfs)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s needs %v, which the Debian base lacks: add their packages to haproxyRuntime", binary, missing)
	}
	img, err := scratch()
	if err != nil {
		return nil, err
	}
	// One layer object for both haproxy images: its digest is computed once,
	// and containerd stores it once.
	if b.base == nil {
		if b.base, err = tarball.LayerFromFile(b.deb.rootfs); err != nil {
			return nil, err
		}
	}
	img, err = mutate.Append(img, mutate.Addendum{Layer: b.base, History: v1.History{
		CreatedBy: fmt.Sprintf("mmdebstrap --variant=essential %s (%v)", suite, b.deb.packages), Created: v1.Time{Time: epoch}}})
	if err != nil {
		return nil, err
	}
	// The official image copies the error pages of haproxy's sources; those
	// of Debian's package are the same pages, and serve the 3.0 image too.
	shared := []file{
		{name: "/usr/local/bin/docker-entrypoint.sh", mode: 0o755, data: []byte(entrypoint)},
		{name: "/usr/local/etc/haproxy/errors", dir: true, mode: 0o755},
	}
	pages, err := os.ReadDir(b.deb.errors)
	if err != nil {
		return nil, err
	}
	for _, e := range pages {
		shared = append(shared, file{name: "/usr/local/etc/haproxy/errors/" + e.Name(), mode: 0o644, src: filepath.Join(b.deb.errors, e.Name())})
	}
	if img, err = appendLayer(img, shared, "haproxy entrypoint and error pages"); err != nil {
		return nil, err
	}
	img, err = appendLayer(img, []file{{name: "/usr/local/sbin/haproxy", mode: 0o755, src: binary}}, "haproxy "+version)
	if err != nil {
		return nil, err
	}
	return mutate.Config(img, v1.Config{
		Env:        []string{"PATH=" + defaultPath, "HAPROXY_VERSION=" + version},
		Entrypoint: []string{"docker-entrypoint.sh"},
		Cmd:        []string{"haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"},
		// Numeric, unlike the official image's "haproxy": the kubelet can
		// only check runAsNonRoot against a numeric image user.
		User:       "99:99",
		WorkingDir: "/var/lib/haproxy",
		StopSignal: "SIGUSR1",
	})
}
