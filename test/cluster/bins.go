package cluster

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

// BinDirEnv names the directory holding the kube-apiserver and etcd binaries.
// `export K8S_BIN_DIR=$(hack/k8s-bins.sh)` sets it for a whole shell session.
const BinDirEnv = "K8S_BIN_DIR"

// buildScript builds and caches the binaries; relative to the repository root.
const buildScript = "hack/k8s-bins.sh"

// FindBinaries returns a directory with kube-apiserver and etcd: $K8S_BIN_DIR
// if set, otherwise the output of hack/k8s-bins.sh, which is found by walking up
// from the working directory (go test runs in the package directory). The script
// returns at once when its cache is filled; a first build takes minutes and
// reports progress on progress (nil discards it).
func FindBinaries(ctx context.Context, progress io.Writer) (string, error) {
	if dir := os.Getenv(BinDirEnv); dir != "" {
		return dir, checkBinaries(dir)
	}
	script, err := findUp(buildScript)
	if err != nil {
		return "", fmt.Errorf("$%s is not set and %s was not found above the working directory: %w", BinDirEnv, buildScript, err)
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
	return dir, checkBinaries(dir)
}

func checkBinaries(dir string) error {
	for _, name := range []string{"etcd", "kube-apiserver", "kube-scheduler", "kube-controller-manager", "kubelet", "kube-proxy"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("%s binary missing (build it with %s): %w", name, buildScript, err)
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
