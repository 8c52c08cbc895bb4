// Package validate runs "haproxy -c" on a file set before it goes live.
package validate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/haproxy/filestore"
	"github.com/external-haproxy/kit/controller/render"
)

// Checker validates sets with a haproxy binary.
//
// Staging: the live directories cannot hold a candidate (haproxy -f loads the
// whole Etc, and maps/certs are named by absolute path), so the set is copied
// under a staging root T, each file at T+<its absolute path>, and every
// occurrence of a set file's path, of Maps() and of Certs() in the copied
// files is rewritten to its staged path. haproxy -c -f T+Etc then parses
// exactly the bytes that will be written, with the new maps, crt-lists and
// certificates, differing only in those path prefixes. Files the set does not
// hold (e.g. Lua scripts from the image) keep their live paths and are read
// from there, as the real load would. haproxy's messages name the live paths
// again: T is cut out of its output.
type Checker struct {
	Binary string       // haproxy executable
	Layout files.Layout // live directories
	// StagingDir is where the staging root is created; the default, Lib, is
	// writable by the controller even on a read-only root filesystem.
	StagingDir string
}

// Error is a set haproxy rejected.
type Error struct {
	Output string // haproxy's ALERT lines, or its whole output if it had none
}

func (e *Error) Error() string { return "haproxy rejected the configuration:\n" + e.Output }

// Check runs haproxy -c on set. Exit 0 is valid, and so is exit 2: "valid but
// no listener", which every placeholder-only config gets.
func (c Checker) Check(ctx context.Context, set files.Set) error {
	stagingDir := c.StagingDir
	if stagingDir == "" {
		stagingDir = c.Layout.Lib
	}
	if err := os.MkdirAll(stagingDir, 0o755); err != nil {
		return err
	}
	root, err := os.MkdirTemp(stagingDir, ".check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)

	rewrite := stagedPaths(root, c.Layout, set)
	for _, f := range set {
		staged := f
		staged.Path = root + f.Path
		staged.Data = []byte(rewrite.Replace(string(f.Data)))
		if err := filestore.WriteAtomic(staged); err != nil {
			return fmt.Errorf("staging %s: %w", f.Path, err)
		}
	}
	// Directories named in the config must exist even when the set has no file in them.
	for _, dir := range []string{c.Layout.Etc, c.Layout.Maps(), c.Layout.Certs()} {
		if err := os.MkdirAll(root+dir, 0o755); err != nil {
			return err
		}
	}

	cmd := exec.CommandContext(ctx, c.Binary, "-c", "-f", root+c.Layout.Etc)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exit) && exit.ExitCode() == 2:
		return nil
	case errors.As(err, &exit) && ctx.Err() == nil:
		return &Error{Output: alerts(strings.ReplaceAll(out.String(), root, ""))}
	}
	return fmt.Errorf("running %s -c: %w", c.Binary, err)
}

// stagedPaths rewrites live paths to staged ones. Longer paths come first so
// that a file path wins over the directory holding it; either way the result
// is the same, as staged paths keep the live path as their suffix.
func stagedPaths(root string, l files.Layout, set files.Set) *strings.Replacer {
	paths := []string{l.Maps(), l.Certs()}
	for _, f := range set {
		paths = append(paths, f.Path)
	}
	sort.Slice(paths, func(i, j int) bool { return len(paths[i]) > len(paths[j]) })
	pairs := make([]string, 0, 6*len(paths))
	for _, p := range paths {
		// Quoted paths stand escaped in the config: rewrite every form.
		staged := render.PathForms(filepath.Join(root, p))
		for i, form := range render.PathForms(p) {
			pairs = append(pairs, form, staged[i])
		}
	}
	return strings.NewReplacer(pairs...)
}

func alerts(out string) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "[ALERT]") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return strings.TrimSpace(out)
	}
	return strings.Join(lines, "\n")
}
