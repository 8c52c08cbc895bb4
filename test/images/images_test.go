package images

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"io"
	"os"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// built runs Build once per test binary (the cache makes later runs quick).
func built(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds container images (minutes the first time)")
	}
	if os.Geteuid() != 0 {
		t.Skip("building the images needs root (mmdebstrap makes files owned by uid 99)")
	}
	buildOnce.Do(func() { buildDir, buildErr = Build(context.Background(), os.Stderr) })
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

func load(t *testing.T, dir, n string) v1.Image {
	t.Helper()
	tag, err := name.NewTag(n)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(File(dir, n), &tag)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// The images' config is what the pods rely on: the user (the kubelet checks
// runAsNonRoot against it), the entrypoint the manifests' args go to, and
// the files it runs.
func TestImages(t *testing.T) {
	dir := built(t)
	haproxyCmd := []string{"haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"}
	for _, tc := range []struct {
		name       string
		user       string
		entrypoint []string
		cmd        []string
		static     string   // a Go binary that must be static
		files      []string // more paths that must exist
	}{
		{Pause, "65535:65535", []string{"/pause"}, nil, "/pause", nil},
		{Echo, "65532", []string{"/usr/local/bin/echoserver"}, nil, "/usr/local/bin/echoserver", []string{"/etc/passwd", "/home/nonroot/", "/tmp/"}},
		{Fn, "65532", []string{"/usr/local/bin/external-haproxy-fn"}, nil, "/usr/local/bin/external-haproxy-fn", nil},
		{HAProxy26, "99:99", []string{"docker-entrypoint.sh"}, haproxyCmd, "", []string{"/usr/local/sbin/haproxy", "/usr/local/etc/haproxy/errors/503.http", "/var/lib/haproxy/"}},
		{HAProxy30, "99:99", []string{"docker-entrypoint.sh"}, haproxyCmd, "", []string{"/usr/local/sbin/haproxy", "/usr/local/etc/haproxy/errors/503.http", "/var/lib/haproxy/"}},
		{Controller, "99:99", []string{"/usr/bin/dumb-init", "--", "/usr/local/bin/haproxy-ingress-controller"}, nil,
			"/usr/local/bin/haproxy-ingress-controller", []string{"/usr/local/sbin/haproxy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := load(t, dir, tc.name)
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if cf.OS != "linux" || cf.Architecture != "amd64" {
				t.Errorf("platform %s/%s, want linux/amd64", cf.OS, cf.Architecture)
			}
			c := cf.Config
			if c.User != tc.user {
				t.Errorf("user %q, want %q", c.User, tc.user)
			}
			if diff := cmp.Diff(tc.entrypoint, c.Entrypoint); diff != "" {
				t.Errorf("entrypoint (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.cmd, c.Cmd); diff != "" {
				t.Errorf("cmd (-want +got):\n%s", diff)
			}
			fs := flatten(t, img)
			// The entrypoint, looked up on the image's PATH as runc does.
			exe := c.Entrypoint[0]
			if !path.IsAbs(exe) {
				for _, e := range c.Env {
					if p, ok := strings.CutPrefix(e, "PATH="); ok {
						for _, d := range strings.Split(p, ":") {
							if _, ok := fs[path.Join(d, exe)]; ok {
								exe = path.Join(d, exe)
								break
							}
						}
					}
				}
			}
			if h, ok := fs[exe]; !ok || h.Typeflag != tar.TypeReg || h.Mode&0o111 == 0 {
				t.Errorf("entrypoint %s is not an executable file in the image", c.Entrypoint[0])
			}
			for _, f := range tc.files {
				if _, ok := fs[strings.TrimSuffix(f, "/")]; !ok {
					t.Errorf("%s is missing", f)
				}
			}
			if tc.static != "" {
				assertStatic(t, img, tc.static)
			}
			if strings.HasPrefix(tc.name, "kit.local/haproxy:") {
				if h := fs["/var/lib/haproxy"]; h == nil || h.Uid != 99 || h.Gid != 99 {
					t.Errorf("/var/lib/haproxy is not owned by 99:99: %+v", h)
				}
			}
		})
	}
}

// The official haproxy image has no file capabilities, and neither may ours:
// a pod whose haproxy binds :80 as uid 99 must fail here as it fails there.
// Checked in every layer, as file capabilities travel in the layer tar as
// the security.capability extended attribute.
func TestNoFileCapabilities(t *testing.T) {
	dir := built(t)
	for _, n := range []string{HAProxy26, HAProxy30, Controller} {
		layers, err := load(t, dir, n).Layers()
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range layers {
			eachFile(t, l, func(h *tar.Header, _ io.Reader) {
				for k := range h.PAXRecords {
					if strings.HasPrefix(k, "SCHILY.xattr.security.capability") {
						t.Errorf("%s layer %d: %s has file capabilities", n, i, h.Name)
					}
				}
			})
		}
	}
}

// flatten lists the image's files as a container sees them (later layers
// over earlier ones, whiteouts applied), by absolute path.
func flatten(t *testing.T, img v1.Image) map[string]*tar.Header {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	fs := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fs
		}
		if err != nil {
			t.Fatal(err)
		}
		fs[path.Clean("/"+h.Name)] = h
	}
}

func eachFile(t *testing.T, l v1.Layer, f func(*tar.Header, io.Reader)) {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		f(h, tr)
	}
}

// assertStatic checks that file, in the image's top layer (where the COPY
// put it), is an ELF with no program interpreter: it runs on any base.
func assertStatic(t *testing.T, img v1.Image, file string) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	eachFile(t, layers[len(layers)-1], func(h *tar.Header, r io.Reader) {
		if path.Clean("/"+h.Name) == file {
			data, err = io.ReadAll(r)
		}
	})
	if data == nil || err != nil {
		t.Fatalf("%s not in the top layer (%v)", file, err)
	}
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked", file)
		}
	}
}
