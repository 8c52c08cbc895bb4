package externalhaproxy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/external-haproxy/kit/fn/externalhaproxy"
)

// upstreamCases are the shapes upstream's users run, golden cases in testdata/krm
// (see each input.yaml); embedded says the input is in the embedded form.
var upstreamCases = []struct {
	name     string
	embedded bool
}{
	{"upstream-five-minute", true}, // the "five minutes deployment"
	{"upstream-patched", false},    // it, patched with upstream's v0.12 example patch
	{"plain-deployment", true},     // a Deployment without namespace
	{"chart-embedded", true},       // the Helm chart's output
	{"chart-external", false},      // the same with controller.haproxy.enabled=true
}

// Each case's external output (expected.yaml) is in the one external form; mode:
// embedded on it gives embedded.yaml, in the embedded form; and back: external on
// that gives the external output again when the input was embedded. An input that
// was external already had sidecar settings the embedded form cannot keep, so
// there embedded, external, embedded must give embedded.yaml again.
func TestUpstreamShapesRoundTrip(t *testing.T) {
	for _, tc := range upstreamCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join("testdata/krm", tc.name)
			ext := fileItems(t, filepath.Join(dir, "expected.yaml"))
			requireExternalForm(t, ext)

			emb := mustRun(t, embeddedConfig, ext)
			golden(t, filepath.Join(dir, "embedded.yaml"), strings.Join(emb, "---\n"))
			requireEmbeddedForm(t, emb)
			if again := mustRun(t, embeddedConfig, emb); !equal(again, emb) {
				t.Errorf("embedded is not idempotent:\n%s", cmp.Diff(emb, again))
			}

			back := mustRun(t, externalConfig, emb)
			requireExternalForm(t, back)
			if tc.embedded && !equal(back, ext) {
				t.Errorf("embedded and back differs from the external output:\n%s", cmp.Diff(ext, back))
			}
			if again := mustRun(t, embeddedConfig, back); !equal(again, emb) {
				t.Errorf("embedded, external, embedded differs from embedded:\n%s", cmp.Diff(emb, again))
			}
		})
	}
}

// mode: embedded on the chart's external output gives the chart's embedded output, and
// so it does on the function's external form of either.
func TestChartEmbeddedForm(t *testing.T) {
	want := workloads(t, fileItems(t, "testdata/krm/chart-embedded/input.yaml"))["haproxy-ingress"]
	for name, docs := range map[string][]string{
		"chart external":             fileItems(t, "testdata/krm/chart-external/input.yaml"),
		"function on chart external": fileItems(t, "testdata/krm/chart-external/expected.yaml"),
		"function on chart embedded": fileItems(t, "testdata/krm/chart-embedded/expected.yaml"),
	} {
		got := workloads(t, mustRun(t, embeddedConfig, docs))["haproxy-ingress"]
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s, mode embedded: not the chart's embedded form (-want +got):\n%s", name, diff)
		}
	}
}

// A field of an existing haproxy or init container that the config does not set comes
// out as it went in, across every golden case; so do haproxy's extra args.
func TestDefaultsNeverReplaceInputValues(t *testing.T) {
	checked := 0
	for _, dir := range krmCases(t) {
		if _, err := os.Stat(filepath.Join(dir, "errors.txt")); err == nil {
			continue
		}
		in, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		config := yaml.MustParse(string(in)).Field("functionConfig").Value
		explicit := func(role, field string) bool {
			n, _ := config.Pipe(yaml.Lookup("spec", role, field))
			return n != nil
		}
		name := func(role, def string) string {
			if n, _ := config.Pipe(yaml.Lookup("spec", role, "containerName")); n != nil {
				return yaml.GetValue(n)
			}
			return def
		}
		haproxy, initName := name("haproxy", "haproxy"), name("init", "haproxy-ingress-init")
		out := workloads(t, fileItems(t, filepath.Join(dir, "expected.yaml")))
		for workload, pod := range workloads(t, fileItems(t, filepath.Join(dir, "input.yaml"))) {
			for _, c := range slices.Concat(pod.Spec.Containers, pod.Spec.InitContainers) {
				role, outName := "", c.Name
				switch {
				case c.Name == haproxy:
					role = "haproxy"
				case c.Name == initName || slices.Contains(c.Args, "--init"):
					role, outName = "init", initName // upstream's init is renamed
				default:
					continue
				}
				got := findContainer(out[workload].Spec, outName)
				if got == nil {
					continue // init.enabled: false
				}
				before, after := asMap(t, c), asMap(t, *got)
				for _, field := range []string{"image", "resources", "securityContext", "livenessProbe", "readinessProbe"} {
					// resources is not a pointer: {} when absent
					v, ok := before[field]
					if ok && !reflect.DeepEqual(v, map[string]any{}) && !explicit(role, field) && !reflect.DeepEqual(v, after[field]) {
						t.Errorf("%s: %s %s.%s: %v became %v", dir, workload, c.Name, field, v, after[field])
					}
				}
				if role == "haproxy" {
					for _, a := range c.Args {
						if !slices.Contains(got.Args, a) && !strings.Contains(a, "master.sock") {
							t.Errorf("%s: %s haproxy lost arg %q: %q", dir, workload, a, got.Args)
						}
					}
				}
				checked++
			}
		}
	}
	if checked < 4 {
		t.Fatalf("only %d existing haproxy or init containers checked", checked)
	}
}

// An explicit config value replaces the input's and says so: a warning naming the
// object, the container and the field, with both values.
func TestExplicitSettingConflictsAreReported(t *testing.T) {
	out, err := os.ReadFile("testdata/krm/chart-external-explicit/expected.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, r := range results(t, string(out), framework.Warning) {
		ref := r.ResourceRef
		if ref == nil || ref.Kind != "Deployment" || ref.Name != "haproxy-ingress" || ref.Namespace != "ingress-controller" ||
			!strings.Contains(r.Message, "container haproxy") || r.Field.CurrentValue == nil || r.Field.ProposedValue == nil {
			t.Errorf("conflict result lacks the object, container or values: %+v", r)
		}
		paths = append(paths, r.Field.Path)
	}
	want := []string{"spec.template.spec.containers[name=haproxy].image", "spec.template.spec.containers[name=haproxy].securityContext"}
	if !slices.Equal(paths, want) {
		t.Errorf("conflicts at %q, want %q", paths, want)
	}
	hap := findContainer(workloads(t, fileItems(t, "testdata/krm/chart-external-explicit/expected.yaml"))["haproxy-ingress"].Spec, "haproxy")
	if hap.Image != "haproxy:3.0.23-alpine" || *hap.SecurityContext.RunAsUser != 99 {
		t.Errorf("the explicit settings were not applied: %s %+v", hap.Image, hap.SecurityContext)
	}
}

// One rule for the init image: taken from an untagged controller image (the
// five-minute DaemonSet) or set so in the config, it gets the same warning naming
// spec.init.image, and neither run fails.
func TestOnePinningRuleForTheInitImage(t *testing.T) {
	initImage := func(dir string) *framework.Result {
		t.Helper()
		out, err := os.ReadFile(filepath.Join("testdata/krm", dir, "expected.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(results(t, string(out), framework.Error)) > 0 {
			t.Fatalf("%s failed", dir)
		}
		for _, r := range results(t, string(out), framework.Warning) {
			if strings.HasSuffix(r.Field.Path, "initContainers[name=haproxy-ingress-init].image") {
				return r
			}
		}
		t.Fatalf("%s: no warning about the init image", dir)
		return nil
	}
	derived, explicit := initImage("upstream-five-minute"), initImage("unpinned-images")
	if derived.Message != explicit.Message || derived.Field.Path != explicit.Field.Path || !strings.Contains(derived.Message, "spec.init.image") {
		t.Errorf("two rules:\n%v\n%v", derived, explicit)
	}
}

// The standalone output keeps the objects the function does not change byte for byte
// (the fixture has wide list indentation, flow lists, blank lines, odd spacing and
// comments), and the changed one keeps its list indentation; ResourceList output keeps
// the untouched items as they came in.
func TestUntouchedObjectsAreByteIdentical(t *testing.T) {
	dir := "testdata/standalone/upstream-five-minute"
	in, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := externalhaproxy.Command()
	cmd.SetArgs([]string{filepath.Join(dir, "config.yaml"), filepath.Join(dir, "input.yaml")})
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	inDocs, outDocs := strings.Split(string(in), "\n---\n"), strings.Split(out.String(), "\n---\n")
	if len(inDocs) != len(outDocs) {
		t.Fatalf("%d documents in, %d out", len(inDocs), len(outDocs))
	}
	for i := range inDocs {
		switch changed := strings.Contains(inDocs[i], "kind: DaemonSet"); {
		case !changed && outDocs[i] != inDocs[i]:
			t.Errorf("untouched document changed:\n%s\nbecame\n%s", inDocs[i], outDocs[i])
		case changed && !strings.Contains(outDocs[i], "\n        - name: haproxy\n"):
			t.Errorf("the DaemonSet lost its wide list indentation:\n%s", outDocs[i])
		}
	}

	rl, err := os.ReadFile("testdata/krm/upstream-five-minute/input.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rlOut, err := run(t, string(rl))
	if err != nil {
		t.Fatal(err)
	}
	before, after := items(t, string(rl)), items(t, rlOut)
	for i := range before {
		if !strings.Contains(before[i], "kind: DaemonSet") && after[i] != before[i] {
			t.Errorf("untouched item changed:\n%s\nbecame\n%s", before[i], after[i])
		}
	}
}

// One info result per changed workload, naming it and the pod spec; none for a
// workload already in the form or one that is not a target.
func TestInfoResultPerChangedWorkload(t *testing.T) {
	base, err := os.ReadFile("../../base/daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rename := func(doc, name string) string {
		return strings.Replace(doc, "  name: haproxy-ingress\n  namespace:", "  name: "+name+"\n  namespace:", 1)
	}
	done := mustRun(t, externalConfig, []string{rename(string(base), "done")})[0]
	echo := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: echoserver\nspec:\n  template:\n    spec:\n      containers:\n      - name: echoserver\n"
	out, err := run(t, rlFor(externalConfig, string(base), rename(string(base), "other"), done, echo))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range results(t, out, framework.Info) {
		if r.ResourceRef.Kind != "DaemonSet" || r.ResourceRef.Namespace != "ingress-controller" || r.Field.Path != "spec.template.spec" ||
			!strings.HasPrefix(r.Message, "external form: ") || !strings.Contains(r.Message, "added container haproxy") {
			t.Errorf("info result: %+v", r)
		}
		names = append(names, r.ResourceRef.Name)
	}
	if want := []string{"haproxy-ingress", "other"}; !slices.Equal(names, want) {
		t.Errorf("info results for %q, want %q", names, want)
	}
}

// The chart's layout needs no setting; when the layout cannot be told, the error says
// which setting decides.
func TestUndetectableLayoutNamesTheSetting(t *testing.T) {
	in, err := os.ReadFile("testdata/krm/error-undetectable-layout/input.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, string(in))
	if err == nil {
		t.Fatal("no error")
	}
	rs := results(t, out, framework.Error)
	if len(rs) != 1 || !strings.Contains(rs[0].Message, "set spec.volumes.layout to emptyDirs or subPaths") ||
		rs[0].ResourceRef.Name != "haproxy-ingress" || rs[0].Field.Path != "spec.template.spec.volumes" {
		t.Errorf("results: %v", rs)
	}
}

// requireExternalForm checks the one external form on every workload of docs.
func requireExternalForm(t *testing.T, docs []string) {
	t.Helper()
	for name, pod := range workloads(t, docs) {
		spec := pod.Spec
		ctl, hap, ini := findContainer(spec, "haproxy-ingress"), findContainer(spec, "haproxy"), findContainer(spec, "haproxy-ingress-init")
		if ctl == nil || hap == nil || ini == nil {
			t.Errorf("%s: controller, haproxy or init container missing", name)
			continue
		}
		sockets := slices.DeleteFunc(slices.Clone(ctl.Args), func(a string) bool { return !strings.HasPrefix(a, "--master-socket") })
		if !slices.Equal(sockets, []string{"--master-socket=/var/run/haproxy/master.sock"}) {
			t.Errorf("%s: controller master socket args %q", name, sockets)
		}
		// An existing sidecar keeps its own socket options (e.g. mode,600).
		if len(hap.Args) < 5 || !slices.Equal(hap.Args[:2], []string{"-W", "-S"}) || !strings.HasPrefix(hap.Args[2], "/var/run/haproxy/master.sock,") ||
			!slices.Equal(hap.Args[3:5], []string{"-f", "/etc/haproxy"}) {
			t.Errorf("%s: haproxy args %q", name, hap.Args)
		}
		if hap.LivenessProbe == nil || hap.ReadinessProbe == nil {
			t.Errorf("%s: haproxy lacks a probe", name)
		}
		for _, c := range spec.InitContainers {
			if (c.Name == "haproxy-ingress-init") != slices.Contains(c.Args, "--init") {
				t.Errorf("%s: init container %s, args %q", name, c.Name, c.Args)
			}
		}
		// Ports: the controller keeps its own only, and no name or number comes twice.
		names, numbers := map[string]bool{}, map[int32]bool{}
		for _, c := range slices.Concat(spec.Containers, spec.InitContainers) {
			for _, p := range c.Ports {
				if c.Name == ctl.Name && p.ContainerPort != 10254 {
					t.Errorf("%s: the controller kept haproxy's port %s %d", name, p.Name, p.ContainerPort)
				}
				if names[p.Name] && p.Name != "" || numbers[p.ContainerPort] {
					t.Errorf("%s: port %s %d appears twice", name, p.Name, p.ContainerPort)
				}
				names[p.Name], numbers[p.ContainerPort] = true, true
			}
		}
		for _, p := range []*corev1.Probe{ctl.LivenessProbe, ctl.ReadinessProbe, ctl.StartupProbe} {
			if p != nil && (p.HTTPGet == nil || p.HTTPGet.Port.IntValue() != 10254) {
				t.Errorf("%s: the controller kept a probe of haproxy: %+v", name, p)
			}
		}
		for _, c := range []*corev1.Container{ctl, hap, ini} {
			dirs := []string{"/etc/haproxy", "/var/lib/haproxy", "/var/run/haproxy"}
			if c == ini {
				dirs = dirs[:1]
			}
			for _, d := range dirs {
				if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == d }) {
					t.Errorf("%s: %s does not mount %s", name, c.Name, d)
				}
			}
		}
	}
}

// requireEmbeddedForm checks the embedded form on every workload of docs.
func requireEmbeddedForm(t *testing.T, docs []string) {
	t.Helper()
	for name, pod := range workloads(t, docs) {
		spec := pod.Spec
		ctl := findContainer(spec, "haproxy-ingress")
		if ctl == nil || findContainer(spec, "haproxy") != nil || ctl.LivenessProbe == nil ||
			slices.ContainsFunc(ctl.Args, func(a string) bool { return strings.HasPrefix(a, "--master-socket") }) {
			t.Errorf("%s: not the embedded form: %+v", name, spec)
		}
		for _, c := range spec.InitContainers {
			if slices.Contains(c.Args, "--init") {
				t.Errorf("%s: init container %s left", name, c.Name)
			}
		}
	}
}

// workloads are the pod templates of the DaemonSets and Deployments of docs, by name,
// decoded strictly.
func workloads(t *testing.T, docs []string) map[string]corev1.PodTemplateSpec {
	t.Helper()
	pods := map[string]corev1.PodTemplateSpec{}
	for _, d := range docs {
		switch yaml.MustParse(d).GetKind() {
		case "DaemonSet":
			var ds appsv1.DaemonSet
			if err := sigsyaml.UnmarshalStrict([]byte(d), &ds); err != nil {
				t.Fatal(err)
			}
			pods[ds.Name] = ds.Spec.Template
		case "Deployment":
			var dep appsv1.Deployment
			if err := sigsyaml.UnmarshalStrict([]byte(d), &dep); err != nil {
				t.Fatal(err)
			}
			pods[dep.Name] = dep.Spec.Template
		}
	}
	return pods
}

func findContainer(spec corev1.PodSpec, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{spec.Containers, spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

func asMap(t *testing.T, c corev1.Container) map[string]any {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// fileItems are the resources of a file: a ResourceList's items, or a stream.
func fileItems(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return items(t, string(b))
}

// mustRun runs the function with config on docs and returns the output items.
func mustRun(t *testing.T, config string, docs []string) []string {
	t.Helper()
	out, err := run(t, rlFor(config, docs...))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return items(t, out)
}

// golden compares got with the file, or writes it with UPDATE_EXPECTED=true.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Errorf("%s differs (UPDATE_EXPECTED=true go test ./fn/... rewrites it):\n%s", path, cmp.Diff(string(want), got))
	}
}
