package overlays

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/external-haproxy/kit/test/argocd"
	"github.com/external-haproxy/kit/test/testbin"
)

// TestArgoCD runs Argo CD's own manifest generation: the real argocd-repo-server
// (v3.2.0, stock settings) with the plugin sidecar of overlays/argocd/cmp-sidecar
// as a real argocd-cmp-server whose $PATH holds what fn/Dockerfile.cmp ships,
// against a file:// git repository holding this checkout's working tree. The
// requests are those the application controller makes for the shipped
// Applications (overlays/argocd/applications), with the repoURL pointed at
// that repository.
func TestArgoCD(t *testing.T) {
	parent := t.TempDir()
	kit := gitRepo(t, parent, "kit", func(dir string) { copyCheckout(t, dir) })
	plugin := filepath.Join(root, "overlays/argocd/cmp-sidecar/plugin.yaml")
	img := pluginImage(t)
	rs := argocd.Start(t, argocd.Options{
		// Argo CD's own image has its bundled kustomize and git.
		Path:     imagePath(t, filepath.Join(parent, "repo-server-bin"), map[string]string{"kustomize": argocd.BundledKustomize(t)}, []string{"git"}),
		Sidecars: []argocd.Sidecar{{ConfigFile: plugin, Path: imagePath(t, filepath.Join(parent, "plugin-bin"), pluginBinaries(t, img), img.packages)}},
	})
	static, function := application(t, "static.yaml"), application(t, "function.yaml")
	if want := rs.Plugins(); !slices.Equal([]string{function.Spec.Source.Plugin.Name}, want) {
		t.Fatalf("function.yaml asks for plugin %q, the sidecar serves %q", function.Spec.Source.Plugin.Name, want)
	}
	request := func(app app, repo string) argocd.Request {
		// One Application name for all: Argo CD's tracking annotation carries it,
		// and the same Application switched between overlays must render the same.
		return argocd.Request{Repo: repo, Revision: app.Spec.Source.TargetRevision, Path: app.Spec.Source.Path, Plugin: app.Spec.Source.Plugin.Name, App: static.Metadata.Name}
	}
	generate := func(t *testing.T, req argocd.Request, sourceType string) *argocd.Response {
		t.Helper()
		resp, err := rs.Generate(t, req)
		if err != nil {
			t.Fatalf("GenerateManifest %s: %v", req.Path, err)
		}
		if resp.SourceType != sourceType {
			t.Errorf("source type %q, want %s", resp.SourceType, sourceType)
		}
		return resp
	}

	t.Run("static overlay with stock settings", func(t *testing.T) {
		resp := generate(t, request(static, kit), "Kustomize")
		ds := requireExternal(t, manifests(resp))
		if id := ds.Annotations["argocd.argoproj.io/tracking-id"]; !strings.HasPrefix(id, static.Metadata.Name+":apps/DaemonSet:") {
			t.Errorf("tracking-id = %q: Argo CD's post-processing did not run", id)
		}
		if len(resp.Revision) != 40 {
			t.Errorf("revision %q is not the commit %s resolved to", resp.Revision, static.Spec.Source.TargetRevision)
		}
	})

	t.Run("function overlay through the plugin equals the static overlay", func(t *testing.T) {
		fn := generate(t, request(function, kit), "Plugin")
		requireExternal(t, manifests(fn))
		want := generate(t, request(static, kit), "Kustomize")
		if !slices.Equal(fn.Manifests, want.Manifests) {
			t.Errorf("plugin and static manifests differ:\n%s", testbin.Diff(t, manifests(want), manifests(fn)))
		}
	})

	t.Run("function overlay without the plugin is refused", func(t *testing.T) {
		req := request(function, kit)
		req.Plugin = "" // what a stock repo-server gets from an Application without spec.source.plugin
		requireError(t, rs, req, "`kustomize build", "external plugins disabled")
	})

	t.Run("plugin not installed is refused", func(t *testing.T) {
		req := request(function, kit)
		req.Plugin = "kustomize-external-haproxy-v0"
		requireError(t, rs, req, `could not find cmp-server plugin with name "kustomize-external-haproxy-v0"`)
	})

	t.Run("function error reaches the Application", func(t *testing.T) {
		req := request(function, kit)
		req.Path = "test/overlays/testdata/argocd-bad-config" // spec.mode: sidecar
		requireError(t, rs, req, "CMP processing failed", "spec.mode", `"sidecar"`)
	})

	// Item 7 of issue 10: the README's consumer overlay, with its remote bases
	// github.com/external-haproxy/kit/... pointed at the file:// repository
	// (the same URL form kustomize clones with git, minus the network).
	consumerKustomization := readmeConsumerExample(t, strings.TrimPrefix(kit, "file://")+"/")
	consumer := gitRepo(t, parent, "consumer", func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), consumerKustomization, 0o644); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("consumer overlay with a remote base through the plugin", func(t *testing.T) {
		req := request(function, consumer)
		req.Path = "."
		ds := requireExternal(t, manifests(generate(t, req, "Plugin")))
		var k struct {
			Namespace string
			Images    []struct{ Name, NewTag string }
		}
		if err := yaml.Unmarshal(consumerKustomization, &k); err != nil || len(k.Images) != 1 || k.Images[0].Name != "haproxy" {
			t.Fatalf("the README's consumer overlay no longer sets one haproxy image (%v):\n%s", err, consumerKustomization)
		}
		if ds.Namespace != k.Namespace {
			t.Errorf("namespace %q, want the consumer's %q", ds.Namespace, k.Namespace)
		}
		if img := container(ds, "haproxy").Image; !strings.HasSuffix(img, ":"+k.Images[0].NewTag) {
			t.Errorf("sidecar image %q: the consumer's images: (tag %s) did not reach it", img, k.Images[0].NewTag)
		}
	})

	t.Run("consumer overlay with a remote base needs git in the image", func(t *testing.T) {
		// The plugin's generate command in the image without git, as
		// fn/Dockerfile.cmp was before: kustomize cannot fetch the base.
		checkout := t.TempDir()
		if err := os.WriteFile(filepath.Join(checkout, "kustomization.yaml"), consumerKustomization, 0o644); err != nil {
			t.Fatal(err)
		}
		noGit := slices.DeleteFunc(slices.Clone(img.packages), func(p string) bool { return p == "git" })
		path := imagePath(t, filepath.Join(t.TempDir(), "bin"), pluginBinaries(t, img), noGit)
		p := loadPlugin(t)
		cmd := testbin.Command(t, []string{"PATH=" + strings.Join(path, ":"), "HOME=" + checkout}, append(slices.Clone(p.Spec.Generate.Command), p.Spec.Generate.Args...)...)
		cmd.Dir = checkout
		out, err := cmd.CombinedOutput()
		if err == nil || !bytes.Contains(out, []byte("no 'git' program on path")) {
			t.Errorf("without git: %v\n%s", err, out)
		}
	})
}

func requireError(t *testing.T, rs *argocd.RepoServer, req argocd.Request, want ...string) {
	t.Helper()
	resp, err := rs.Generate(t, req)
	var gerr *argocd.Error
	if !errors.As(err, &gerr) {
		t.Fatalf("GenerateManifest %s succeeded with %d manifests, want an error", req.Path, len(resp.Manifests))
	}
	t.Logf("Argo CD: %s", gerr.Text)
	for _, w := range want {
		if !strings.Contains(gerr.Text, w) {
			t.Errorf("error lacks %q:\n%s", w, gerr.Text)
		}
	}
}

// manifests is a GenerateManifest answer as one YAML stream.
func manifests(resp *argocd.Response) []byte {
	return []byte(strings.Join(resp.Manifests, "\n---\n"))
}

type app struct {
	Metadata struct{ Name string }
	Spec     struct {
		Source struct {
			Path, TargetRevision string
			Plugin               struct{ Name string }
		}
	}
}

func application(t *testing.T, file string) app {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "overlays/argocd/applications", file))
	if err != nil {
		t.Fatal(err)
	}
	var a app
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// dockerImage is what the last stage of a Dockerfile puts into its image.
type dockerImage struct {
	from     string
	binaries []string // basenames copied into /usr/local/bin
	packages []string // installed with apt-get install
	user     string
}

func parseDockerfile(t *testing.T, path string) dockerImage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var img dockerImage
	// Continued lines joined; every FROM starts a new stage.
	text := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(string(b), " ")
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 1 && f[0] == "FROM":
			img = dockerImage{from: f[1]}
		case len(f) > 2 && f[0] == "COPY" && f[len(f)-1] == "/usr/local/bin/":
			for _, src := range f[1 : len(f)-1] {
				if !strings.HasPrefix(src, "--") {
					img.binaries = append(img.binaries, filepath.Base(src))
				}
			}
		case len(f) > 1 && f[0] == "RUN":
			if _, install, ok := strings.Cut(line, "apt-get install"); ok {
				install, _, _ = strings.Cut(install, "&&")
				for _, w := range strings.Fields(install) {
					if !strings.HasPrefix(w, "-") {
						img.packages = append(img.packages, w)
					}
				}
			}
		case len(f) == 2 && f[0] == "USER":
			img.user = f[1]
		}
	}
	return img
}

// pluginImage is fn/Dockerfile.cmp's image, checked for what the plugin needs.
func pluginImage(t *testing.T) dockerImage {
	t.Helper()
	img := parseDockerfile(t, filepath.Join(root, "fn/Dockerfile.cmp"))
	if img.user != "999:999" && img.user != "999" {
		t.Errorf("fn/Dockerfile.cmp runs as %q, Argo CD's sidecars run as uid 999", img.user)
	}
	if !slices.Contains(img.binaries, "kustomize") || !slices.Contains(img.binaries, "external-haproxy-fn") {
		t.Fatalf("fn/Dockerfile.cmp does not put kustomize and external-haproxy-fn on $PATH: %q", img.binaries)
	}
	if !strings.HasPrefix(img.from, "debian:") {
		t.Fatalf("fn/Dockerfile.cmp is based on %s; imagePath stands in for Debian images only", img.from)
	}
	return img
}

// pluginBinaries are local stand-ins for the binaries the plugin image
// copies into /usr/local/bin: the function and kustomize as `make` builds
// them (the Dockerfile installs the same kustomize release).
func pluginBinaries(t *testing.T, img dockerImage) map[string]string {
	t.Helper()
	bins := map[string]string{}
	for _, b := range img.binaries {
		switch b {
		case "kustomize":
			bins[b] = testbin.Kustomize(t)
		case "external-haproxy-fn":
			bins[b] = filepath.Join(testbin.Dir(t), b)
		default:
			t.Fatalf("no stand-in for the plugin image's binary %s", b)
		}
	}
	return bins
}

// imagePath makes dir a $PATH directory with the programs of a Debian-based
// image, as links to this machine's: the binaries given (name: local file),
// the programs of the Debian packages given, and those of the Essential and
// required packages, which make a debian:*-slim base. This machine is Debian
// too; the image is bookworm, as the machine the tests were written on.
func imagePath(t *testing.T, dir string, binaries map[string]string, packages []string) []string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	link := func(name, target string) {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrExist) {
			t.Fatal(err)
		}
	}
	for name, file := range binaries {
		link(name, file)
	}
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Package}\t${Essential}\t${Priority}\t${db:Status-Status}\n").Output()
	if err != nil {
		t.Fatalf("dpkg-query (the image is Debian's, so is its stand-in): %v", err)
	}
	installed := map[string]bool{}
	pkgs := slices.Clone(packages)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 || f[3] != "installed" {
			continue
		}
		installed[f[0]] = true
		if f[1] == "yes" || f[2] == "required" {
			pkgs = append(pkgs, f[0])
		}
	}
	for _, p := range packages {
		if !installed[p] {
			t.Fatalf("Debian package %s, which the image installs, is not installed here: apt-get install %s", p, p)
		}
	}
	files, err := exec.Command("dpkg-query", append([]string{"-L"}, pkgs...)...).Output()
	if err != nil {
		t.Fatalf("dpkg-query -L: %v", err)
	}
	for _, f := range strings.Split(string(files), "\n") {
		switch filepath.Dir(f) {
		case "/bin", "/usr/bin", "/sbin", "/usr/sbin":
			if fi, err := os.Stat(f); err == nil && !fi.IsDir() {
				link(filepath.Base(f), f)
			}
		}
	}
	return []string{dir}
}

// readmeConsumerExample is the README's consumer overlay with its remote
// bases github.com/external-haproxy/kit/<path>?ref=... moved to the
// repository under kitPrefix (e.g. /tmp/x/kit.git/).
func readmeConsumerExample(t *testing.T, kitPrefix string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const remote = "github.com/external-haproxy/kit/"
	for _, block := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(b, -1) {
		if bytes.Contains(block[1], []byte("kind: Kustomization")) && bytes.Contains(block[1], []byte("- "+remote+"base?ref=")) {
			return bytes.ReplaceAll(block[1], []byte(remote), []byte("file://"+kitPrefix))
		}
	}
	t.Fatalf("README.md has no consumer overlay with the remote base %sbase?ref=...", remote)
	return nil
}

// copyCheckout copies what git would commit from this checkout: tracked and
// untracked files that are not ignored, as they are in the working tree.
func copyCheckout(t *testing.T, dst string) {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, rel)
		info, err := os.Lstat(src)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		if !info.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, rel), b, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

// gitRepo makes a bare repository PARENT/NAME.git whose branch main has one
// commit of what fill writes, and returns its file:// URL.
func gitRepo(t *testing.T, parent, name string, fill func(dir string)) string {
	t.Helper()
	work := filepath.Join(parent, name+"-work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	fill(work)
	bare := filepath.Join(parent, name+".git")
	env := []string{
		"HOME=" + parent, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=kit test", "GIT_AUTHOR_EMAIL=test@kit.invalid",
		"GIT_COMMITTER_NAME=kit test", "GIT_COMMITTER_EMAIL=test@kit.invalid",
		"PATH=" + os.Getenv("PATH"),
	}
	for _, args := range [][]string{
		{"init", "-q", "--bare", "-b", "main", bare},
		{"--git-dir", bare, "--work-tree", work, "add", "-A"},
		{"--git-dir", bare, "--work-tree", work, "commit", "-q", "-m", "working tree of the checkout under test"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %q: %v\n%s", args, err, out)
		}
	}
	return "file://" + bare
}
