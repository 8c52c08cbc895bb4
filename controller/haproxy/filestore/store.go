// Package filestore writes a files.Set into the live haproxy directories:
// atomically, only what changed, removing what the new set no longer has.
package filestore

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/external-haproxy/kit/controller/files"
)

// Store owns every non-hidden *.cfg directly in Etc (haproxy -f loads exactly
// those, so the controller must own all of them: this is what removes the init
// container's placeholder once the real config is written), every file under
// Maps() and Certs(), and any other file of the set it wrote last.
type Store struct {
	layout  files.Layout
	written map[string]bool // paths of the last applied set
}

// New returns a store for layout.
func New(layout files.Layout) *Store {
	return &Store{layout: layout}
}

// Plan is the difference between a set and the disk.
type Plan struct {
	Write  []files.File // new or changed content or mode
	Remove []string     // owned files not in the set
}

// Empty tells whether the disk already holds the set.
func (p Plan) Empty() bool { return len(p.Write) == 0 && len(p.Remove) == 0 }

// Changed lists the paths the plan touches, sorted.
func (p Plan) Changed() []string {
	out := make([]string, 0, len(p.Write)+len(p.Remove))
	for _, f := range p.Write {
		out = append(out, f.Path)
	}
	out = append(out, p.Remove...)
	sort.Strings(out)
	return out
}

// Mode is the permission a file is written with. haproxy runs as the same uid
// as the controller (99 in the sidecar), so 0600 keys stay readable to it.
func Mode(f files.File) fs.FileMode {
	if f.Private {
		return 0o600
	}
	return 0o644
}

// Check rejects sets the store must not write: paths outside Etc and Lib,
// hidden names (temporary files use them), duplicates, and sets without a
// top-level *.cfg (haproxy exits on an empty -f directory).
func (s *Store) Check(set files.Set) error {
	seen := make(map[string]bool, len(set))
	hasCfg := false
	for _, f := range set {
		if !filepath.IsAbs(f.Path) || filepath.Clean(f.Path) != f.Path {
			return fmt.Errorf("file %q: path must be absolute and clean", f.Path)
		}
		if !under(s.layout.Etc, f.Path) && !under(s.layout.Lib, f.Path) {
			return fmt.Errorf("file %q: outside %s and %s", f.Path, s.layout.Etc, s.layout.Lib)
		}
		if strings.HasPrefix(filepath.Base(f.Path), ".") {
			return fmt.Errorf("file %q: hidden names are reserved for temporary files", f.Path)
		}
		if seen[f.Path] {
			return fmt.Errorf("file %q: twice in the set", f.Path)
		}
		seen[f.Path] = true
		hasCfg = hasCfg || s.isLoadedCfg(f.Path)
	}
	if !hasCfg {
		return fmt.Errorf("no *.cfg file directly in %s: haproxy would not start", s.layout.Etc)
	}
	return nil
}

// Plan compares set with the disk.
func (s *Store) Plan(set files.Set) (Plan, error) {
	if err := s.Check(set); err != nil {
		return Plan{}, err
	}
	var p Plan
	inSet := make(map[string]bool, len(set))
	for _, f := range set {
		inSet[f.Path] = true
		same, err := sameOnDisk(f)
		if err != nil {
			return Plan{}, err
		}
		if !same {
			p.Write = append(p.Write, f)
		}
	}
	owned, err := s.owned()
	if err != nil {
		return Plan{}, err
	}
	for _, path := range owned {
		if !inSet[path] {
			p.Remove = append(p.Remove, path)
		}
	}
	return p, nil
}

func sameOnDisk(f files.File) (bool, error) {
	fi, err := os.Stat(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != Mode(f) || fi.Size() != int64(len(f.Data)) {
		return false, nil
	}
	data, err := os.ReadFile(f.Path)
	if err != nil {
		return false, err
	}
	return bytes.Equal(data, f.Data), nil
}

// Apply writes the plan. Maps and certificates go first and config files last,
// then removals in the opposite order, so that a haproxy (re)start in the
// middle never loads a config that names a file not yet there.
func (s *Store) Apply(set files.Set, p Plan) error {
	writes := append([]files.File(nil), p.Write...)
	sort.SliceStable(writes, func(i, j int) bool {
		return !s.isLoadedCfg(writes[i].Path) && s.isLoadedCfg(writes[j].Path)
	})
	for _, f := range writes {
		if err := WriteAtomic(f); err != nil {
			return err
		}
	}
	removes := append([]string(nil), p.Remove...)
	sort.SliceStable(removes, func(i, j int) bool {
		return s.isLoadedCfg(removes[i]) && !s.isLoadedCfg(removes[j])
	})
	for _, path := range removes {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	s.written = make(map[string]bool, len(set))
	for _, f := range set {
		s.written[f.Path] = true
	}
	return nil
}

// WriteAtomic writes f through a hidden temporary file in the same directory
// (".name.tmp": neither hidden nor non-.cfg names are loaded by haproxy -f)
// renamed over the target, so haproxy never reads a half-written file. No
// fsync: the files are regenerated from the cluster state after a crash.
func WriteAtomic(f files.File) error {
	dir, base := filepath.Split(f.Path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+base+".tmp")
	if err := os.WriteFile(tmp, f.Data, Mode(f)); err != nil {
		return err
	}
	// WriteFile keeps the mode of an existing temp file and applies the umask.
	if err := os.Chmod(tmp, Mode(f)); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, f.Path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// Snapshot reads the owned files from disk: what haproxy loads at its next
// (re)start. It is the last good set before the store wrote anything.
func (s *Store) Snapshot() (files.Set, error) {
	owned, err := s.owned()
	if err != nil {
		return nil, err
	}
	set := make(files.Set, 0, len(owned))
	for _, path := range owned {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		set = append(set, files.File{Path: path, Data: data, Private: fi.Mode().Perm()&0o077 == 0})
	}
	set.Sort()
	return set, nil
}

// owned lists the owned files on disk, sorted; leftover temporary files of an
// interrupted write are removed on the way.
func (s *Store) owned() ([]string, error) {
	found := map[string]bool{}
	entries, err := os.ReadDir(s.layout.Etc)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries {
		path := filepath.Join(s.layout.Etc, e.Name())
		switch {
		case !e.Type().IsRegular():
		case isTemp(e.Name()):
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		case s.isLoadedCfg(path):
			found[path] = true
		}
	}
	for _, dir := range []string{s.layout.Maps(), s.layout.Certs()} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return nil
			case err != nil:
				return err
			case !d.Type().IsRegular():
				return nil
			case isTemp(d.Name()):
				return os.Remove(path)
			}
			found[path] = true
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for path := range s.written {
		if _, err := os.Lstat(path); err == nil {
			found[path] = true
		}
	}
	out := make([]string, 0, len(found))
	for path := range found {
		out = append(out, path)
	}
	sort.Strings(out)
	return out, nil
}

// isLoadedCfg tells whether haproxy -f Etc loads path: a non-hidden *.cfg
// directly in Etc.
func (s *Store) isLoadedCfg(path string) bool {
	base := filepath.Base(path)
	return filepath.Dir(path) == s.layout.Etc && strings.HasSuffix(base, ".cfg") && !strings.HasPrefix(base, ".")
}

func isTemp(name string) bool { return strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") }

func under(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, "../")
}
