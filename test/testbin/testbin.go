// Package testbin finds the real binaries the end-to-end tests run — the
// function and controller built from this checkout, pinned kustomize, kpt —
// and holds small file helpers those tests share.
package testbin

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// RepoRoot is the checkout this package was compiled from.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "../.."))
}

var (
	buildOnce sync.Once
	builtDir  string
	buildErr  error
)

// Dir holds this checkout's binaries: $KIT_BIN (set by make), or a fresh build
// so that a bare `go test ./...` tests the code it sees, never a stale binary.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("KIT_BIN"); d != "" {
		return d
	}
	buildOnce.Do(func() {
		builtDir, buildErr = os.MkdirTemp("", "kit-bin-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", builtDir+"/", "./fn", "./controller/cmd/...", "./test/echoserver")
		cmd.Dir = RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = &buildError{err, string(out)}
		}
		if err := os.Rename(filepath.Join(builtDir, "fn"), filepath.Join(builtDir, "external-haproxy-fn")); err != nil && buildErr == nil {
			buildErr = err
		}
	})
	if buildErr != nil {
		t.Fatalf("building the binaries: %v", buildErr)
	}
	return builtDir
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// PathWithFn is $PATH with this checkout's binaries first, so that the bare
// exec name external-haproxy-fn resolves the way the docs tell users to.
func PathWithFn(t testing.TB) string {
	sep := string(os.PathListSeparator)
	return Dir(t) + sep + filepath.Dir(Kustomize(t)) + sep + os.Getenv("PATH")
}

// EnvWithFn is the environment with PathWithFn.
func EnvWithFn(t testing.TB) []string {
	env := []string{"PATH=" + PathWithFn(t)}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	return env
}

// Kustomize is the pinned standalone kustomize that `make tools` installs.
func Kustomize(t testing.TB) string {
	t.Helper()
	p := filepath.Join(RepoRoot(), "bin/kustomize")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("pinned kustomize missing at %s: run `make tools` (make test does)", p)
	}
	return p
}

// Command is exec.Command with argv[0] looked up in env's PATH, as a
// plugin host would, rather than in the test's own.
func Command(t testing.TB, env []string, argv ...string) *exec.Cmd {
	t.Helper()
	for _, kv := range env {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, dir := range filepath.SplitList(p) {
				if _, err := os.Stat(filepath.Join(dir, argv[0])); err == nil {
					cmd := exec.Command(filepath.Join(dir, argv[0]), argv[1:]...)
					cmd.Env = env
					return cmd
				}
			}
		}
	}
	t.Fatalf("%s not found on the PATH given", argv[0])
	return nil
}

// Kpt is kpt from $PATH (part of the machine image).
func Kpt(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("kpt")
	if err != nil {
		t.Fatalf("kpt >= 1.0.0-beta not on $PATH: %v", err)
	}
	return p
}

// Diff is a readable unified-style diff of two texts.
func Diff(t testing.TB, want, got []byte) string {
	return cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n"))
}

// SameJSON compares two values by their JSON form.
func SameJSON(t testing.TB, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}

// CopyDir copies a directory tree, keeping file modes.
func CopyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}
