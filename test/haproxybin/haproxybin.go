// Package haproxybin lists the haproxy builds the haproxy-facing tests run
// against: Debian bookworm's 2.6 on $PATH and 3.0 built by hack/haproxy30.sh.
package haproxybin

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/external-haproxy/kit/test/testbin"
)

// Build is one haproxy binary under test.
type Build struct {
	Name string // major.minor, e.g. "2.6"
	Path string
}

// AtLeast reports whether the build is version major.minor or later, e.g.
// AtLeast("2.7") for the synchronous reload reply.
func (b Build) AtLeast(version string) bool {
	var bm, bn, vm, vn int
	fmt.Sscanf(b.Name, "%d.%d", &bm, &bn)
	fmt.Sscanf(version, "%d.%d", &vm, &vn)
	return bm > vm || bm == vm && bn >= vn
}

var (
	once   sync.Once
	builds []Build
	err    error
)

// Builds returns every build, in version order. A missing or mislabelled
// binary fails the test: a skip would pass with one version unchecked.
func Builds(tb testing.TB) []Build {
	tb.Helper()
	once.Do(func() { builds, err = find() })
	if err != nil {
		tb.Fatal(err)
	}
	return builds
}

// Run runs f as the subtest "haproxy-<name>" of t (a *testing.T or
// *testing.B) for each build.
func Run[T interface {
	testing.TB
	Run(string, func(T)) bool
}](t T, f func(T, Build)) {
	t.Helper()
	for _, b := range Builds(t) {
		t.Run("haproxy-"+b.Name, func(t T) { f(t, b) })
	}
}

func find() ([]Build, error) {
	old, err := exec.LookPath("haproxy")
	if err != nil {
		return nil, fmt.Errorf("haproxy 2.6 not on $PATH (make haproxy installs it): %w", err)
	}
	cur := os.Getenv("KIT_HAPROXY_30")
	if cur == "" {
		// A bare `go test` builds (or finds cached) what make test passes in.
		cmd := exec.Command(filepath.Join(testbin.RepoRoot(), "hack", "haproxy30.sh"))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("hack/haproxy30.sh (or set KIT_HAPROXY_30): %w", err)
		}
		cur = strings.TrimSpace(string(out))
	}
	bs := []Build{{"2.6", old}, {"3.0", cur}}
	for _, b := range bs {
		if err := check(b); err != nil {
			return nil, err
		}
	}
	return bs, nil
}

// check makes sure a subtest named haproxy-X.Y really runs X.Y.
func check(b Build) error {
	out, err := exec.Command(b.Path, "-v").Output()
	if err != nil {
		return fmt.Errorf("%s -v: %w", b.Path, err)
	}
	if !bytes.HasPrefix(out, []byte("HAProxy version "+b.Name+".")) {
		first, _, _ := bytes.Cut(out, []byte("\n"))
		return fmt.Errorf("%s is %q, want haproxy %s", b.Path, first, b.Name)
	}
	return nil
}

// Path is the binary of the build whose Run subtest tb is (or is inside), for
// helpers deep in a test. Outside Run it fails the test: every test starting
// haproxy is meant to run on each build.
func Path(tb testing.TB) string {
	tb.Helper()
	for _, elem := range strings.Split(tb.Name(), "/") {
		for _, b := range Builds(tb) {
			if elem == "haproxy-"+b.Name {
				return b.Path
			}
		}
	}
	tb.Fatalf("%s: no haproxy-<version> subtest: run it under haproxybin.Run", tb.Name())
	return ""
}

// TempDir is a new directory removed when tb ends, with a short path: haproxy
// refuses unix socket paths over 97 bytes, and t.TempDir's grows with every
// subtest name.
func TempDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "hx")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
