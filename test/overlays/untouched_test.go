package overlays

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/external-haproxy/kit/test/testbin"
)

// fiveMinute is upstream's "five minutes deployment" shape (wide list indentation,
// flow lists, blank lines, odd spacing, comments); only its DaemonSet is a target.
var fiveMinute = filepath.Join(root, "fn/externalhaproxy/testdata/standalone/upstream-five-minute/input.yaml")

// kustomize and kpt write the objects the function does not change exactly as
// they write them without it: the function hands them back untouched.
func TestUntouchedObjectsAsWithoutTheFunction(t *testing.T) {
	manifest, err := os.ReadFile(fiveMinute)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("kustomize", func(t *testing.T) {
		dir := t.TempDir()
		testbin.CopyDir(t, filepath.Join(root, "overlays/components/external-haproxy-fn"), filepath.Join(dir, "component"))
		build := func(name, components string) []byte {
			write(t, filepath.Join(dir, name, "five-minute.yaml"), manifest)
			write(t, filepath.Join(dir, name, "kustomization.yaml"), []byte(
				"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- five-minute.yaml\n"+components))
			return kustomize(t, "build", "--enable-alpha-plugins", "--enable-exec", filepath.Join(dir, name))
		}
		with, without := build("with", "components:\n- ../component\n"), build("without", "")
		requireSameUntouched(t, without, with)
	})

	t.Run("kpt", func(t *testing.T) {
		render := func(fn string) []byte {
			pkg := t.TempDir()
			write(t, filepath.Join(pkg, "five-minute.yaml"), manifest)
			testbin.CopyDir(t, filepath.Join(root, "overlays/kpt"), pkg)
			_ = os.Remove(filepath.Join(pkg, "haproxy-ingress.yaml"))
			kptfile := "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: five-minute\n  annotations:\n" +
				"    config.kubernetes.io/local-config: \"true\"\npipeline:\n  mutators:\n  - exec: " + fn + "\n    configPath: external-haproxy.yaml\n"
			write(t, filepath.Join(pkg, "Kptfile"), []byte(kptfile))
			cmd := exec.Command(testbin.Kpt(t), "fn", "render", "--allow-exec", pkg)
			cmd.Dir, cmd.Env = t.TempDir(), testbin.EnvWithFn(t) // the bare exec names come from $PATH
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("kpt fn render (%s): %v\n%s", fn, err, out)
			}
			b, err := os.ReadFile(filepath.Join(pkg, "five-minute.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		// cat is the function that changes nothing: what kpt itself makes of the file.
		requireSameUntouched(t, render("cat"), render("external-haproxy-fn"))
	})
}

// requireSameUntouched compares two streams document by document; the DaemonSet
// must differ (the function did run) and every other document must be equal.
func requireSameUntouched(t *testing.T, without, with []byte) {
	t.Helper()
	a, b := strings.Split(string(without), "\n---\n"), strings.Split(string(with), "\n---\n")
	if len(a) != len(b) {
		t.Fatalf("%d documents without the function, %d with it", len(a), len(b))
	}
	for i := range a {
		daemonSet := strings.Contains(a[i], "kind: DaemonSet")
		switch {
		case daemonSet && a[i] == b[i]:
			t.Errorf("the function did not change the DaemonSet:\n%s", b[i])
		case !daemonSet && a[i] != b[i]:
			t.Errorf("untouched object differs:\n%s", testbin.Diff(t, []byte(a[i]), []byte(b[i])))
		}
	}
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
