package images

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type builder struct {
	root, tmp string
	p         *progress
	deb       *deb
	haproxy30 string
	recipes   map[string]*recipe
	images    map[string]v1.Image // the ones built so far: bases of later ones
	bins      map[string]string   // Dockerfile + build-stage path -> local binary
	base      v1.Layer            // the Debian rootfs
}

// fromImages replaces the final stages' FROM: each upstream base by the
// local image standing in for it ("" is the empty image).
var fromImages = map[string]string{
	"scratch": "",
	"gcr.io/distroless/static-debian12:nonroot": staticNonroot,
	"haproxy:3.0.23-alpine":                     HAProxy30,
}

// staticNonroot names the stand-in for distroless/static:nonroot; it is the
// base of other images only and is not written out.
const staticNonroot = "static-nonroot"

func (b *builder) all(ctx context.Context) error {
	b.images, b.bins = map[string]v1.Image{}, map[string]string{}
	defer os.RemoveAll(filepath.Join(b.tmp, "bin")) // in the tarballs once written
	if err := b.goBuilds(ctx); err != nil {
		return err
	}
	static, err := staticBase()
	if err != nil {
		return err
	}
	b.images[staticNonroot] = static
	for _, n := range Names() {
		var img v1.Image
		var err error
		switch n {
		case HAProxy26:
			img, err = b.haproxy(b.deb.haproxy, "2.6.12")
		case HAProxy30:
			img, err = b.haproxy(b.haproxy30, "3.0.11")
		default:
			img, err = b.fromDockerfile(n)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
		b.images[n] = img
		b.p.begin("writing %s", n)
		tag, err := name.NewTag(n)
		if err != nil {
			return err
		}
		if err := tarball.WriteToFile(File(b.tmp, n), tag, img); err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
	}
	return nil
}

// goBuilds runs every Dockerfile's `go build` line locally, for the target
// platform, with the line's own environment (CGO_ENABLED=0) and flags; only
// -o points into the temp dir.
func (b *builder) goBuilds(ctx context.Context) error {
	version, err := goOutput(ctx, b.root, nil, "env", "GOVERSION")
	if err != nil {
		return err
	}
	for _, n := range Names() {
		r := b.recipes[n]
		if r == nil {
			continue
		}
		// The build stage names the Go release (golang:1.26): build with it.
		if want := "go" + strings.TrimPrefix(r.toolchain, "golang:"); string(version) != want && !strings.HasPrefix(string(version), want+".") {
			return fmt.Errorf("%s builds with %s, this Go is %s", r.dockerfile, r.toolchain, version)
		}
		for _, g := range r.builds {
			out := filepath.Join(b.tmp, "bin", strings.NewReplacer("/", "_").Replace(r.dockerfile+g.out))
			b.p.begin("go build %s (%s)", strings.Join(g.pkgs, " "), r.dockerfile)
			cmd := exec.CommandContext(ctx, "go", slices.Concat([]string{"build", "-o", out}, g.args)...)
			cmd.Dir = b.root
			cmd.Env = slices.Concat(os.Environ(), targetEnv, g.env)
			if o, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("%s: go build %s: %w\n%s", r.dockerfile, strings.Join(g.args, " "), err, o)
			}
			b.bins[r.dockerfile+"\x00"+g.out] = out
		}
	}
	return nil
}

// fromDockerfile is a Dockerfile's final stage: the stand-in base, one layer
// with the COPY --from=build files, and the stage's config instructions.
func (b *builder) fromDockerfile(n string) (v1.Image, error) {
	r := b.recipes[n]
	baseName, ok := fromImages[r.base]
	if !ok {
		return nil, fmt.Errorf("%s: no local stand-in for FROM %s", r.dockerfile, r.base)
	}
	base, ok := b.images[baseName]
	if baseName == "" {
		var err error
		if base, err = scratch(); err != nil {
			return nil, err
		}
	} else if !ok {
		return nil, fmt.Errorf("%s: base %s is not built yet", r.dockerfile, baseName)
	}
	// The apk packages are in the Debian base (see debianBase).
	if len(r.apk) > 0 && baseName != HAProxy26 && baseName != HAProxy30 {
		return nil, fmt.Errorf("%s: apk add on a base that is not the Debian one", r.dockerfile)
	}
	var files []file
	for _, c := range r.copies {
		src, ok := b.bins[r.dockerfile+"\x00"+c.src]
		if !ok {
			return nil, fmt.Errorf("%s: COPY --from=build %s: no go build writes it", r.dockerfile, c.src)
		}
		files = append(files, file{name: c.dest, src: src, mode: 0o755})
	}
	img, err := appendLayer(base, withParents(files), "COPY --from=build (local go build), "+r.dockerfile)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg := *cf.Config.DeepCopy()
	for _, f := range r.config {
		f(&cfg)
	}
	return mutate.Config(img, cfg)
}

// scratch is the empty image, for the target platform.
func scratch() (v1.Image, error) {
	cf, err := empty.Image.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	return mutate.ConfigFile(empty.Image, cf)
}

// staticBase stands in for gcr.io/distroless/static-debian12:nonroot as far
// as the images built on it notice: the same users, home, /tmp and config
// (user 65532, workdir /home/nonroot). It has no CA bundle or tzdata: the
// function and the echo server use neither.
func staticBase() (v1.Image, error) {
	img, err := scratch()
	if err != nil {
		return nil, err
	}
	img, err = appendLayer(img, []file{
		{name: "/etc", dir: true, mode: 0o755},
		{name: "/etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/sbin/nologin\n" +
			"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{name: "/etc/group", mode: 0o644, data: []byte("root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n")},
		{name: "/etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{name: "/home", dir: true, mode: 0o755},
		{name: "/home/nonroot", dir: true, mode: 0o700, uid: 65532, gid: 65532},
		{name: "/root", dir: true, mode: 0o700},
		{name: "/tmp", dir: true, mode: 0o1777},
	}, "static-nonroot stand-in")
	if err != nil {
		return nil, err
	}
	return mutate.Config(img, v1.Config{
		User:       "65532",
		WorkingDir: "/home/nonroot",
		Env:        []string{"PATH=" + defaultPath},
	})
}

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// A file of a layer, at its absolute path in the image.
type file struct {
	name     string
	mode     int64 // permission bits
	uid, gid int
	dir      bool
	data     []byte // content, or:
	src      string // a host file to copy
}

// epoch is every file's mtime, so that unchanged inputs give the same layers.
var epoch = time.Unix(0, 0)

// appendLayer adds one layer with files to img. The tar stream holds only
// the files' own headers: no extended attributes, so no file capabilities.
func appendLayer(img v1.Image, files []file, createdBy string) (v1.Image, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		hdr := &tar.Header{Name: strings.TrimPrefix(f.name, "/"), Mode: f.mode, Uid: f.uid, Gid: f.gid, ModTime: epoch}
		data := f.data
		switch {
		case f.dir:
			hdr.Typeflag, hdr.Name = tar.TypeDir, hdr.Name+"/"
		case f.src != "":
			var err error
			if data, err = os.ReadFile(f.src); err != nil {
				return nil, err
			}
			fallthrough
		default:
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		return nil, err
	}
	return mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: createdBy, Created: v1.Time{Time: epoch}}})
}

// withParents precedes files with their missing parent directories (root,
// 0755), as COPY creates them.
func withParents(files []file) []file {
	seen := map[string]bool{"/": true}
	var out []file
	for _, f := range files {
		var parents []file
		for d := path.Dir(f.name); !seen[d]; d = path.Dir(d) {
			seen[d] = true
			parents = append(parents, file{name: d, dir: true, mode: 0o755})
		}
		slices.Reverse(parents)
		out = append(append(out, parents...), f)
	}
	return out
}

// missingLibs lists the shared libraries that binary needs (ELF NEEDED) and
// that the gzipped rootfs has in none of the loader's default directories:
// the check `ldd` would make inside the image.
func missingLibs(binary, rootfs string) ([]string, error) {
	ef, err := elf.Open(binary)
	if err != nil {
		return nil, err
	}
	needed, err := ef.ImportedLibraries()
	ef.Close()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(rootfs)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch path.Dir(path.Clean("/" + hdr.Name)) {
		case "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib":
			have[path.Base(hdr.Name)] = true
		}
	}
	return slices.DeleteFunc(needed, func(l string) bool { return have[l] }), nil
}
