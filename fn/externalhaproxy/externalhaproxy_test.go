package externalhaproxy_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/external-haproxy/kit/fn/externalhaproxy"
	appsv1 "k8s.io/api/apps/v1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/fn/framework/frameworktestutil"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

var update = os.Getenv("UPDATE_EXPECTED") == "true"

// Error fixtures are compared literally: the messages are full of regex metacharacters
// (containers[name=...]), so the default line-regex matching would not match itself.
func TestProcessorGolden(t *testing.T) {
	c := frameworktestutil.ProcessorResultsChecker{
		TestDataDirectory:        "testdata/krm",
		Processor:                externalhaproxy.Processor,
		UpdateExpectedFromActual: update,
		ErrorAssertionFunc:       frameworktestutil.RequireStrippedStringsEqual,
	}
	c.Assert(t)
}

// Standalone cases keep the command's stderr (errors, and warnings on success) in
// stderr.txt.
func TestCommandGolden(t *testing.T) {
	c := frameworktestutil.CommandResultsChecker{
		TestDataDirectory:        "testdata/standalone",
		Command:                  externalhaproxy.Command,
		UpdateExpectedFromActual: update,
		ExpectedErrorFilename:    "stderr.txt",
		ErrorAssertionFunc:       frameworktestutil.RequireStrippedStringsEqual,
	}
	c.Assert(t)
}

// run executes the processor on a ResourceList the way ProcessorResultsChecker does.
func run(t *testing.T, in string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := framework.Execute(externalhaproxy.Processor(), &kio.ByteReadWriter{Reader: strings.NewReader(in), Writer: &out})
	return out.String(), err
}

func items(t *testing.T, rl string) []string {
	t.Helper()
	nodes, err := (&kio.ByteReader{Reader: strings.NewReader(rl), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, n := range nodes {
		s = append(s, n.MustString())
	}
	return s
}

func krmCases(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("testdata/krm/*")
	if err != nil || len(dirs) < 15 {
		t.Fatalf("want at least 15 golden cases, got %d (%v)", len(dirs), err)
	}
	return dirs
}

// Every successful case must be a fixed point (kpt re-renders in place, components can
// be included twice) that reports no change the second time, and every failing case
// must hand back its input items unchanged.
func TestGoldenCasesTwice(t *testing.T) {
	for _, dir := range krmCases(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			first, err := run(t, string(in))
			// Error cases keep expected.yaml too: the check that the items are untouched
			// and that the results carry resourceRef and field path.
			if want, rerr := os.ReadFile(filepath.Join(dir, "expected.yaml")); rerr == nil && err != nil {
				if strings.TrimSpace(first) != strings.TrimSpace(string(want)) {
					t.Fatalf("output differs from expected.yaml:\n%s", first)
				}
			}
			if err != nil {
				if got, want := items(t, first), items(t, string(in)); !equal(got, want) {
					t.Fatalf("items changed on error:\n%s", strings.Join(got, "---\n"))
				}
				return
			}
			second, err := run(t, withoutResults(t, first))
			if err != nil {
				t.Fatalf("second run failed: %v", err)
			}
			if got, want := items(t, second), items(t, first); !equal(got, want) {
				t.Fatalf("not idempotent; first:\n%s\nsecond:\n%s", first, second)
			}
			if r := results(t, second, framework.Info); len(r) > 0 {
				t.Errorf("the second run reports changes: %v", r)
			}
		})
	}
}

// withoutResults is a ResourceList output as the next input: an orchestrator does not
// pass the previous results (the framework would write them out again).
func withoutResults(t *testing.T, rl string) string {
	t.Helper()
	n := yaml.MustParse(rl)
	if err := n.PipeE(yaml.Clear("results")); err != nil {
		t.Fatal(err)
	}
	return n.MustString()
}

// results are the results of a ResourceList output with the given severity.
func results(t *testing.T, out string, severity framework.Severity) framework.Results {
	t.Helper()
	var rl struct{ Results framework.Results }
	if err := yaml.Unmarshal([]byte(out), &rl); err != nil {
		t.Fatal(err)
	}
	var rs framework.Results
	for _, r := range rl.Results {
		if r.Severity == severity {
			rs = append(rs, r)
		}
	}
	return rs
}

func equal(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

// The output has to be valid apps/v1: decoded strictly, an unknown or misplaced field
// (say restartPolicy on a regular container list item of the wrong type) fails.
func TestOutputDecodesStrictly(t *testing.T) {
	decoded := 0
	for _, dir := range krmCases(t) {
		b, err := os.ReadFile(filepath.Join(dir, "expected.yaml"))
		if os.IsNotExist(err) {
			continue
		}
		for _, it := range items(t, string(b)) {
			n := yaml.MustParse(it)
			var obj any
			switch n.GetKind() {
			case "DaemonSet":
				obj = &appsv1.DaemonSet{}
			case "Deployment":
				obj = &appsv1.Deployment{}
			default:
				continue
			}
			j, err := n.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			strict, err := sigsjson.UnmarshalStrict(j, obj)
			if err != nil || len(strict) > 0 {
				t.Errorf("%s: %s/%s does not decode strictly: %v %v", dir, n.GetKind(), n.GetName(), err, strict)
			}
			decoded++
		}
	}
	if decoded < 10 {
		t.Fatalf("only %d workloads decoded", decoded)
	}
}

func rlFor(config string, docs ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n")
	b.WriteString(indent(config))
	b.WriteString("items:\n")
	for _, d := range docs {
		b.WriteString("- " + strings.TrimPrefix(indent(d), "  "))
	}
	return b.String()
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

const (
	externalConfig = "apiVersion: kit.external-haproxy.dev/v1alpha1\nkind: ExternalHaproxy\nmetadata:\n  name: x\n"
	embeddedConfig = externalConfig + "spec:\n  mode: embedded\n"
)

// base -> external -> embedded gives back the base DaemonSet, byte for byte.
func TestRoundTripBase(t *testing.T) {
	for _, native := range []bool{false, true} {
		t.Run(fmt.Sprintf("nativeSidecar=%v", native), func(t *testing.T) {
			base, err := os.ReadFile("../../base/daemonset.yaml")
			if err != nil {
				t.Fatal(err)
			}
			cfg := externalConfig
			if native {
				cfg += "spec:\n  haproxy:\n    nativeSidecar: true\n"
			}
			ext, err := run(t, rlFor(cfg, string(base)))
			if err != nil {
				t.Fatal(err)
			}
			if got := items(t, ext)[0]; got == items(t, rlFor(cfg, string(base)))[0] {
				t.Fatal("external mode changed nothing")
			}
			emb, err := run(t, rlFor(embeddedConfig, items(t, ext)[0]))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := items(t, emb)[0], items(t, rlFor(cfg, string(base)))[0]; got != want {
				t.Fatalf("round trip differs\ngot:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// The real binary: exit code 1, a readable stderr line, and stdout carrying the
// unchanged input (standalone) so that a pipeline never loses resources.
func TestBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "external-haproxy-fn")
	if out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := "testdata/standalone/error-conflicting-volume"
	input, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("standalone error", func(t *testing.T) {
		cmd := exec.Command(bin, filepath.Join(dir, "config.yaml"), filepath.Join(dir, "input.yaml"))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("want exit code 1, got %v", err)
		}
		want := `volume "etc" is needed as an emptyDir for the haproxy directories (spec.volumes.layout: emptyDirs) but is hostPath` + "\n"
		if !strings.HasSuffix(stderr.String(), want) || !strings.Contains(stderr.String(), "spec.template.spec.volumes[name=etc]") {
			t.Fatalf("stderr: %q", stderr.String())
		}
		if got := stdout.String(); got != string(input) {
			t.Fatalf("stdout is not the unchanged input:\n%s", got)
		}
	})

	t.Run("krm error results", func(t *testing.T) {
		rl := rlFor(externalConfig+"spec:\n  haproxy:\n    image: \"\"\n", string(input))
		cmd := exec.Command(bin)
		cmd.Stdin = strings.NewReader(rl)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("want exit code 1, got %v", err)
		}
		if !strings.Contains(stderr.String(), `spec.haproxy.image: must not be empty`) {
			t.Fatalf("stderr: %q", stderr.String())
		}
		out := stdout.String()
		if !strings.Contains(out, "severity: error") || !strings.Contains(out, "path: spec.haproxy.image") {
			t.Fatalf("no error result in output:\n%s", out)
		}
		if got, want := items(t, out), items(t, rl); !equal(got, want) {
			t.Fatalf("items changed:\n%s", out)
		}
	})

	// The processor checker's reader drops index annotations; the binary must keep
	// every orchestrator annotation.
	t.Run("krm annotations kept", func(t *testing.T) {
		cmd := exec.Command(bin)
		cmd.Stdin, _ = os.Open("testdata/krm/comments-annotations/input.yaml")
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"config.kubernetes.io/index: '0'", "internal.config.kubernetes.io/index: '0'",
			"config.kubernetes.io/path: ingress-controller/daemonset.yaml",
			"internal.config.kubernetes.io/path: ingress-controller/daemonset.yaml",
			"kustomize.config.k8s.io/id: |", "internal.config.kubernetes.io/previousNames: haproxy-ingress",
			"# Probe comment, travels with the probe.", "name: haproxy\n",
		} {
			if !strings.Contains(string(out), want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("legacy exec plugin shim", func(t *testing.T) {
		cmd := exec.Command(bin, filepath.Join("testdata/standalone/base-daemonset", "config.yaml"))
		cmd.Env = append(os.Environ(), "KUSTOMIZE_PLUGIN_CONFIG_ROOT="+t.TempDir())
		cmd.Stdin = bytes.NewReader(input)
		out, err := cmd.Output()
		if err == nil {
			t.Fatalf("the conflicting volume should fail through the shim too:\n%s", out)
		}
		cmd = exec.Command(bin, filepath.Join("testdata/standalone/base-daemonset", "config.yaml"))
		cmd.Env = append(os.Environ(), "KUSTOMIZE_PLUGIN_CONFIG_ROOT="+t.TempDir())
		cmd.Stdin, _ = os.Open("testdata/standalone/base-daemonset/input.yaml")
		out, err = cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile("testdata/standalone/base-daemonset/expected.yaml")
		if string(out) != string(want) {
			t.Fatalf("shim output differs from standalone output:\n%s", out)
		}
	})
}

// BenchmarkFilter1000Workloads runs 1,000 base DaemonSets through the processor.
func BenchmarkFilter1000Workloads(b *testing.B) {
	base, err := os.ReadFile("../../base/daemonset.yaml")
	if err != nil {
		b.Fatal(err)
	}
	docs := make([]string, 1000)
	for i := range docs {
		docs[i] = strings.Replace(string(base), "name: haproxy-ingress\n", fmt.Sprintf("name: haproxy-ingress-%d\n", i), 1)
	}
	rl := framework.ResourceList{FunctionConfig: yaml.MustParse(externalConfig)}
	parsed, err := (&kio.ByteReader{Reader: strings.NewReader(strings.Join(docs, "---\n"))}).Read()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		rl.Items = make([]*yaml.RNode, len(parsed))
		for i, n := range parsed {
			rl.Items[i] = n.Copy()
		}
		b.StartTimer()
		if err := externalhaproxy.Processor().Process(&rl); err != nil {
			b.Fatal(err)
		}
	}
}
