// Package cachedbin finds the test binaries that a hack/*-bins.sh script builds
// into a cache dir (kube-apiserver and etcd; Argo CD): the dir named by an
// environment variable if set, otherwise the one the script prints.
package cachedbin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Set is one cached group of binaries.
type Set struct {
	Env    string   // names the dir, e.g. K8S_BIN_DIR; `export K8S_BIN_DIR=$(hack/k8s-bins.sh)` sets it for a shell
	Script string   // builds and caches them and prints the dir; relative to the repository root
	Names  []string // the executables the dir must hold
}

// Find returns a directory with the binaries: $Env if set, otherwise the
// output of Script, which is found by walking up from the working directory
// (go test runs in the package directory). The script returns at once when its
// cache is filled; a first build takes minutes and reports progress on
// progress (nil discards it).
func (s Set) Find(ctx context.Context, progress io.Writer) (string, error) {
	if dir := os.Getenv(s.Env); dir != "" {
		return dir, s.Check(dir)
	}
	script, err := findUp(s.Script)
	if err != nil {
		return "", fmt.Errorf("$%s is not set and %s was not found above the working directory: %w", s.Env, s.Script, err)
	}
	if progress == nil {
		progress = io.Discard
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, script)
	cmd.Stdout, cmd.Stderr = &out, progress
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s failed (%w); run it by hand to see why", script, err)
	}
	dir := strings.TrimSpace(out.String())
	if i := strings.LastIndexByte(dir, '\n'); i >= 0 {
		dir = dir[i+1:]
	}
	return dir, s.Check(dir)
}

// Check reports a binary that is missing from dir or not executable.
func (s Set) Check(dir string) error {
	for _, name := range s.Names {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("%s binary missing (build it with %s): %w", name, s.Script, err)
		}
		if fi.Mode()&0o111 == 0 {
			return fmt.Errorf("%s is not executable", filepath.Join(dir, name))
		}
	}
	return nil
}

func findUp(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not found")
		}
		dir = parent
	}
}
