// Package overlays builds every shipped overlay the way users do — standalone
// kustomize, kustomize in-process (krusty), kpt and the Argo CD plugin — and
// checks what lands in the manifests, never only the exit code: kustomize
// without --enable-exec skips the function and still exits 0.
package overlays

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/yaml"

	"github.com/external-haproxy/kit/test/testbin"
)

const masterSocket = "/var/run/haproxy/master.sock"

var root = testbin.RepoRoot()

// kustomize runs the pinned standalone binary from an unrelated working
// directory, with the function only reachable through $PATH.
func kustomize(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(testbin.Kustomize(t), args...)
	cmd.Dir = t.TempDir()
	cmd.Env = testbin.EnvWithFn(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func krustyBuild(t *testing.T, dir string, exec bool) []byte {
	t.Helper()
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionLegacy // what the standalone binary does by default
	if exec {
		pc := types.EnabledPluginConfig(types.BploUseStaticallyLinked)
		pc.FnpLoadingOptions.EnableExec = true
		opts.PluginConfig = pc
	}
	t.Setenv("PATH", testbin.PathWithFn(t))
	m, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("krusty %s: %v", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// daemonSet decodes the haproxy-ingress DaemonSet strictly into apps/v1.
func daemonSet(t *testing.T, manifests []byte) *appsv1.DaemonSet {
	t.Helper()
	nodes, err := kio.FromBytes(manifests)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.GetKind() != "DaemonSet" {
			continue
		}
		s, err := n.String()
		if err != nil {
			t.Fatal(err)
		}
		var ds appsv1.DaemonSet
		if err := yaml.UnmarshalStrict([]byte(s), &ds); err != nil {
			t.Fatalf("DaemonSet does not decode strictly into apps/v1: %v", err)
		}
		return &ds
	}
	t.Fatalf("no DaemonSet in output:\n%s", manifests)
	return nil
}

func container(ds *appsv1.DaemonSet, name string) *corev1.Container {
	spec := &ds.Spec.Template.Spec
	for _, list := range [][]corev1.Container{spec.Containers, spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// requireExternal checks what a user of the external form relies on.
func requireExternal(t *testing.T, manifests []byte) *appsv1.DaemonSet {
	t.Helper()
	ds := daemonSet(t, manifests)
	ctl := container(ds, "haproxy-ingress")
	if ctl == nil {
		t.Fatal("controller container missing")
	}
	if !slices.Contains(ctl.Args, "--master-socket="+masterSocket) {
		t.Errorf("controller args lack --master-socket: %q", ctl.Args)
	}
	if !slices.Contains(ctl.Args, "--configmap=$(POD_NAMESPACE)/haproxy-ingress") {
		t.Errorf("controller lost its other args: %q", ctl.Args)
	}
	if ctl.LivenessProbe != nil {
		t.Errorf("controller still has a liveness probe: %+v", ctl.LivenessProbe)
	}
	hap := container(ds, "haproxy")
	if hap == nil {
		t.Fatalf("no haproxy sidecar in the DaemonSet:\n%s", manifests)
	}
	wantArgs := []string{"-W", "-S", masterSocket + ",mode,660", "-f", "/etc/haproxy"}
	if got := append(slices.Clone(hap.Command), hap.Args...); !slices.Equal(got[len(got)-len(wantArgs):], wantArgs) {
		t.Errorf("haproxy started as %q, want ... %q", got, wantArgs)
	}
	if p := hap.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port.IntValue() != 10253 {
		t.Errorf("haproxy liveness probe = %+v, want GET :10253/healthz", p)
	}
	if len(ds.Spec.Template.Spec.InitContainers) == 0 {
		t.Error("no init container writing the initial haproxy config")
	}
	for _, c := range []*corev1.Container{ctl, hap} {
		mounted := map[string]bool{}
		for _, m := range c.VolumeMounts {
			mounted[m.MountPath] = true
		}
		for _, dir := range []string{"/etc/haproxy", "/var/lib/haproxy", "/var/run/haproxy"} {
			if !mounted[dir] {
				t.Errorf("container %s does not mount %s", c.Name, dir)
			}
		}
	}
	return ds
}

func TestFunctionOverlayEqualsStaticOverlay(t *testing.T) {
	fn := kustomize(t, "build", "--enable-alpha-plugins", "--enable-exec", filepath.Join(root, "overlays/external-haproxy"))
	static := kustomize(t, "build", filepath.Join(root, "overlays/external-haproxy-static"))
	requireExternal(t, fn)
	requireExternal(t, static)
	if !bytes.Equal(fn, static) {
		t.Errorf("function and static overlays differ:\n%s", testbin.Diff(t, static, fn))
	}
	defaultInstall := kustomize(t, "build", root)
	if !bytes.Equal(defaultInstall, static) {
		t.Errorf("root kustomization is not the static overlay:\n%s", testbin.Diff(t, static, defaultInstall))
	}
}

func TestKrustyInProcessMatchesStandalone(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		exec bool
	}{{"overlays/external-haproxy", true}, {"overlays/external-haproxy-static", false}} {
		t.Run(tc.dir, func(t *testing.T) {
			dir := filepath.Join(root, tc.dir)
			got := krustyBuild(t, dir, tc.exec)
			requireExternal(t, got)
			args := []string{"build", dir}
			if tc.exec {
				args = append(args, "--enable-alpha-plugins", "--enable-exec")
			}
			if want := kustomize(t, args...); !bytes.Equal(got, want) {
				t.Errorf("krusty and standalone kustomize differ:\n%s", testbin.Diff(t, want, got))
			}
		})
	}
}

// Documents the trap: without --enable-exec kustomize exits 0 and leaves the
// DaemonSet embedded. This is why every test here inspects the output.
func TestWithoutEnableExecTheFunctionIsSkipped(t *testing.T) {
	out := kustomize(t, "build", "--enable-alpha-plugins", filepath.Join(root, "overlays/external-haproxy"))
	if container(daemonSet(t, out), "haproxy") != nil {
		t.Fatal("kustomize ran the function without --enable-exec; the README warning is stale")
	}
}

func TestConsumerImagesAndNamespaceReachTheSidecar(t *testing.T) {
	out := kustomize(t, "build", "--enable-alpha-plugins", "--enable-exec", filepath.Join(root, "test/overlays/testdata/consumer"))
	ds := requireExternal(t, out)
	if ds.Namespace != "edge" {
		t.Errorf("namespace = %q, want edge", ds.Namespace)
	}
	if img := container(ds, "haproxy").Image; img != "registry.example/mirror/haproxy:3.0.23-alpine-patched" {
		t.Errorf("sidecar image = %q: the consumer's images: did not reach it", img)
	}
}

func TestBaseIsEmbedded(t *testing.T) {
	ds := daemonSet(t, kustomize(t, "build", filepath.Join(root, "base")))
	ctl := container(ds, "haproxy-ingress")
	if ctl == nil || container(ds, "haproxy") != nil || len(ds.Spec.Template.Spec.InitContainers) != 0 {
		t.Fatal("base is not the embedded form")
	}
	if slices.ContainsFunc(ctl.Args, func(a string) bool { return strings.HasPrefix(a, "--master-socket") }) {
		t.Error("base controller has --master-socket")
	}
	if ctl.LivenessProbe == nil || ctl.ReadinessProbe == nil {
		t.Error("base controller needs liveness and readiness probes")
	}
	sc := ctl.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("controller securityContext too weak: %+v", sc)
	}
	if u := ds.Spec.Template.Spec.SecurityContext.RunAsUser; u == nil || *u != 99 {
		t.Errorf("pod does not run as uid 99")
	}
}

func TestKptRenderIsIdempotent(t *testing.T) {
	kpt := testbin.Kpt(t)
	pkg := filepath.Join(t.TempDir(), "haproxy-ingress")
	testbin.CopyDir(t, filepath.Join(root, "overlays/kpt"), pkg)
	render := func() {
		cmd := exec.Command(kpt, "fn", "render", "--allow-exec", pkg)
		cmd.Dir = t.TempDir() // kpt resolves exec paths against its cwd: the bare name must come from $PATH
		cmd.Env = testbin.EnvWithFn(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kpt fn render: %v\n%s", err, out)
		}
	}
	render()
	first, err := os.ReadFile(filepath.Join(pkg, "haproxy-ingress.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ds := requireExternal(t, first)
	want := daemonSet(t, kustomize(t, "build", "--enable-alpha-plugins", "--enable-exec", filepath.Join(root, "overlays/external-haproxy")))
	if !testbin.SameJSON(t, ds.Spec, want.Spec) {
		t.Errorf("kpt-rendered DaemonSet differs from the kustomize overlay's")
	}
	kptfile, _ := os.ReadFile(filepath.Join(pkg, "Kptfile"))
	render()
	second, _ := os.ReadFile(filepath.Join(pkg, "haproxy-ingress.yaml"))
	if !bytes.Equal(first, second) {
		t.Errorf("second render changed the package:\n%s", testbin.Diff(t, first, second))
	}
	if again, _ := os.ReadFile(filepath.Join(pkg, "Kptfile")); !bytes.Equal(kptfile, again) {
		t.Error("the function edited the Kptfile")
	}
}

// The kpt package carries a copy of base/ (kpt does not read kustomizations).
func TestKptPackageIsCurrent(t *testing.T) {
	got, err := os.ReadFile(filepath.Join(root, "overlays/kpt/haproxy-ingress.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := kustomize(t, "build", filepath.Join(root, "base")); !bytes.Equal(got, want) {
		t.Errorf("overlays/kpt is stale, run make kpt-package:\n%s", testbin.Diff(t, want, got))
	}
}

type cmpPlugin struct {
	Metadata struct{ Name string }
	Spec     struct {
		Version  string
		Generate struct{ Command, Args []string }
	}
}

func loadPlugin(t *testing.T) cmpPlugin {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "overlays/argocd/cmp-sidecar/plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var p cmpPlugin
	if err := yaml.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// Runs the plugin's generate command the way the CMP server does: in the
// Application's path inside a copy of the repository.
func TestArgoCDPluginGenerate(t *testing.T) {
	p := loadPlugin(t)
	checkout := t.TempDir()
	for _, d := range []string{"base", "overlays"} {
		testbin.CopyDir(t, filepath.Join(root, d), filepath.Join(checkout, d))
	}
	argv := append(slices.Clone(p.Spec.Generate.Command), p.Spec.Generate.Args...)
	cmd := testbin.Command(t, append(testbin.EnvWithFn(t), "ARGOCD_APP_NAME=haproxy-ingress-fn"), argv...)
	cmd.Dir = filepath.Join(checkout, "overlays/external-haproxy")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("generate %q: %v", argv, err)
	}
	requireExternal(t, out)
}

func TestArgoCDApplications(t *testing.T) {
	p := loadPlugin(t)
	out := kustomize(t, "build", filepath.Join(root, "overlays/argocd/applications"))
	nodes, err := kio.FromBytes(out)
	if err != nil {
		t.Fatal(err)
	}
	plugins := 0
	for _, n := range nodes {
		path, _ := n.GetString("spec.source.path")
		if _, err := os.Stat(filepath.Join(root, path, "kustomization.yaml")); err != nil {
			t.Errorf("Application %s points at %q: %v", n.GetName(), path, err)
		}
		if name, _ := n.GetString("spec.source.plugin.name"); name != "" {
			plugins++
			if want := p.Metadata.Name + "-" + p.Spec.Version; name != want {
				t.Errorf("Application %s asks for plugin %q, the sidecar serves %q", n.GetName(), name, want)
			}
		}
	}
	if len(nodes) != 2 || plugins != 1 {
		t.Errorf("want one plain and one plugin Application, got %d with %d plugin", len(nodes), plugins)
	}
}

func TestArgoCDRepoServerGetsPluginSidecar(t *testing.T) {
	out := kustomize(t, "build", filepath.Join(root, "test/overlays/testdata/argocd-repo-server"))
	nodes, err := kio.FromBytes(out)
	if err != nil {
		t.Fatal(err)
	}
	var dep appsv1.Deployment
	var cm corev1.ConfigMap
	for _, n := range nodes {
		s, _ := n.String()
		switch n.GetKind() {
		case "Deployment":
			if err := yaml.UnmarshalStrict([]byte(s), &dep); err != nil {
				t.Fatal(err)
			}
		case "ConfigMap":
			if err := yaml.UnmarshalStrict([]byte(s), &cm); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, ok := cm.Data["plugin.yaml"]; !ok || cm.Namespace != "argocd" {
		t.Fatalf("plugin ConfigMap missing or misplaced: %+v", cm.ObjectMeta)
	}
	var side, repoServer *corev1.Container
	for i, c := range dep.Spec.Template.Spec.Containers {
		switch c.Name {
		case "external-haproxy-cmp":
			side = &dep.Spec.Template.Spec.Containers[i]
		case "argocd-repo-server":
			repoServer = &dep.Spec.Template.Spec.Containers[i]
		}
	}
	if side == nil || repoServer == nil {
		t.Fatalf("repo-server containers: %+v", dep.Spec.Template.Spec.Containers)
	}
	if len(side.Command) == 0 || side.Command[0] != "/var/run/argocd/argocd-cmp-server" {
		t.Errorf("sidecar does not run the CMP server: %q", side.Command)
	}
	mounts := map[string]string{}
	for _, m := range side.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	if mounts["/var/run/argocd"] != "var-files" || mounts["/home/argocd/cmp-server/plugins"] != "plugins" || mounts["/home/argocd/cmp-server/config/plugin.yaml"] == "" {
		t.Errorf("sidecar mounts: %v", mounts)
	}
	for _, v := range dep.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name != cm.Name {
			t.Errorf("volume %s refers to ConfigMap %q, generated %q", v.Name, v.ConfigMap.Name, cm.Name)
		}
	}
}
