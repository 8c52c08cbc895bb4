// Package images builds the container images that the test node runs, with
// no Docker engine and no registry: nothing can be pulled there, so every
// image a pod uses is built here and imported into containerd's k8s.io
// namespace.
//
// The project's Dockerfiles stay the single source of truth for the images of
// our own binaries (see recipe.go); the haproxy images follow the official
// haproxy image (see haproxy.go). Images are assembled with
// go-containerregistry and written as docker-save tarballs, one per image,
// into a cache directory keyed by every input (see Build).
//
// It lives under test/ so that product code cannot import it by accident.
package images

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// The images, by the name containerd stores them under.
const (
	Pause      = "kit.local/pause:1" // the CRI plugin's sandbox_image
	Echo       = "kit.local/echoserver:dev"
	HAProxy26  = "kit.local/haproxy:2.6.12" // Debian bookworm's haproxy package
	HAProxy30  = "kit.local/haproxy:3.0.11" // hack/haproxy30.sh's build
	Controller = "kit.local/haproxy-ingress-controller:dev"
	Fn         = "kit.local/external-haproxy-fn:dev"
)

// Names lists every image that Build makes, in build order.
func Names() []string {
	return []string{Pause, Echo, Fn, HAProxy26, HAProxy30, Controller}
}

// dockerfiles are the images built from a Dockerfile of this repository.
var dockerfiles = map[string]string{
	Pause:      "test/images/pause/Dockerfile",
	Echo:       "test/echoserver/Dockerfile",
	Controller: "controller/Dockerfile",
	Fn:         "fn/Dockerfile",
}

// File is the docker-save tarball of the image name inside a Build dir.
func File(dir, name string) string {
	return filepath.Join(dir, strings.NewReplacer("/", "_", ":", "_").Replace(name)+".tar")
}

// Build makes every image of Names, or finds them in the cache, and returns
// the directory that holds their tarballs (see File). Progress lines for the
// long steps go to progress. The cache dir is
// ${XDG_CACHE_HOME:-$HOME/.cache}/external-haproxy-kit/images-KEY, KEY
// hashing every input: the Go sources of the binaries and of this builder,
// the Dockerfiles, the Go version, the Debian package list and apt sources,
// and the haproxy 3.0 binary. Parallel callers build once: the others wait.
//
// A cold build needs root, mmdebstrap (installed when missing) and the
// Debian mirrors; it also builds haproxy 3.0 through hack/haproxy30.sh.
func Build(ctx context.Context, progress io.Writer) (string, error) {
	p := newProgress(progress)
	defer p.stop()
	root := repoRoot()
	recipes := map[string]*recipe{}
	var apk []string
	for name, df := range dockerfiles {
		r, err := parseDockerfile(root, df)
		if err != nil {
			return "", err
		}
		recipes[name] = r
		apk = append(apk, r.apk...)
	}
	sources, err := sourcesKey(ctx, root, recipes)
	if err != nil {
		return "", err
	}
	// Both may take minutes when cold: compiling haproxy is CPU-bound,
	// mmdebstrap mostly waits for the mirror and dpkg.
	var h30 string
	var h30Err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		h30, h30Err = haproxy30(ctx, root, p)
	}()
	deb, err := debianBase(ctx, apk, p)
	<-done
	if err != nil {
		return "", err
	}
	if h30Err != nil {
		return "", h30Err
	}
	key, err := imagesKey(sources, deb.key, h30)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cacheRoot(), "images-"+key)
	err = cached(ctx, dir, p, func(tmp string) error {
		p.say("building the images into %s", dir)
		b := &builder{root: root, tmp: tmp, p: p, deb: deb, haproxy30: h30, recipes: recipes}
		return b.all(ctx)
	})
	if err != nil {
		return "", err
	}
	return dir, nil
}

// Import loads the named images (all of Names when none is given) from a
// Build dir into the k8s.io namespace of the containerd at address, where
// the CRI plugin, and so the kubelet, finds them. ctr unpacks each image
// into the default snapshotter (overlayfs), which is the CRI plugin's
// default too; set CONTAINERD_SNAPSHOTTER in the environment for another.
//
// containerd 1.6's ctr needs no other flag: the images are linux/amd64 only,
// so the default platform filter keeps them whole, and its CRI plugin picks
// imported images up from containerd's image events (the
// io.cri-containerd.image=managed label only exists from 1.7 on).
func Import(ctx context.Context, ctrBinary, address, dir string, names ...string) error {
	if len(names) == 0 {
		names = Names()
	}
	for _, n := range names {
		f := File(dir, n)
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("image %s: %w", n, err)
		}
		cmd := exec.CommandContext(ctx, ctrBinary, "--address", address, "--namespace", "k8s.io", "images", "import", f)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("ctr images import %s: %w\n%s", f, err, out)
		}
	}
	return nil
}

// repoRoot is the checkout this package was compiled from: Build reads its
// Dockerfiles and builds its binaries.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "../.."))
}

func cacheRoot() string {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "external-haproxy-kit")
}

// haproxy30 runs hack/haproxy30.sh, which builds haproxy 3.0 once into its
// own cache, and returns the binary's path.
func haproxy30(ctx context.Context, root string, p *progress) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack/haproxy30.sh"))
	cmd.Stderr = p.w
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/haproxy30.sh: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}
