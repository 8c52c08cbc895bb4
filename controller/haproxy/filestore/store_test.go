package filestore

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/external-haproxy/kit/controller/files"
)

func testLayout(t *testing.T) files.Layout {
	return files.DefaultLayout(t.TempDir())
}

func apply(t *testing.T, s *Store, set files.Set) []string {
	t.Helper()
	p, err := s.Plan(set)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(set, p); err != nil {
		t.Fatal(err)
	}
	return p.Changed()
}

func TestApplyWritesOnlyChangesAndRemovesOwned(t *testing.T) {
	l := testLayout(t)
	if err := os.MkdirAll(l.Etc, 0o755); err != nil {
		t.Fatal(err)
	}
	placeholder := filepath.Join(l.Etc, "00-init.cfg")
	notOurs := filepath.Join(l.Etc, "README.txt")
	for _, p := range []string{placeholder, notOurs} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	global := files.File{Path: filepath.Join(l.Etc, "00-global.cfg"), Data: []byte("global\n")}
	hosts := files.File{Path: filepath.Join(l.Maps(), "hosts.map"), Data: []byte("a b\n")}
	cert := files.File{Path: filepath.Join(l.Certs(), "default.pem"), Data: []byte("PEM"), Private: true}
	s := New(l)

	got := apply(t, s, files.Set{global, hosts, cert})
	want := []string{global.Path, placeholder, hosts.Path, cert.Path}
	if !reflect.DeepEqual(sorted(got), sorted(want)) {
		t.Errorf("first apply changed %v, want %v", got, want)
	}
	if _, err := os.Stat(placeholder); !os.IsNotExist(err) {
		t.Error("init placeholder still loaded by haproxy -f")
	}
	if _, err := os.Stat(notOurs); err != nil {
		t.Error("a file the store does not own was removed")
	}
	for f, mode := range map[string]os.FileMode{cert.Path: 0o600, hosts.Path: 0o644} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v err %v, want %v", f, fi.Mode().Perm(), err, mode)
		}
	}

	if got := apply(t, s, files.Set{global, hosts, cert}); len(got) != 0 {
		t.Errorf("unchanged set rewrote %v", got)
	}

	hosts2 := files.File{Path: hosts.Path, Data: []byte("a c\n")}
	if got := apply(t, s, files.Set{global, hosts2}); !reflect.DeepEqual(got, sorted([]string{hosts.Path, cert.Path})) {
		t.Errorf("changed %v", got)
	}
	if data, _ := os.ReadFile(hosts.Path); string(data) != "a c\n" {
		t.Errorf("hosts.map = %q", data)
	}
	entries, _ := os.ReadDir(l.Maps())
	for _, e := range entries {
		if isTemp(e.Name()) {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestCheckRejects(t *testing.T) {
	l := testLayout(t)
	cfg := files.File{Path: filepath.Join(l.Etc, "00-global.cfg")}
	for name, set := range map[string]files.Set{
		"outside":   {cfg, {Path: "/tmp/x.map"}},
		"relative":  {cfg, {Path: "etc/haproxy/x.cfg"}},
		"hidden":    {cfg, {Path: filepath.Join(l.Etc, ".x.cfg")}},
		"duplicate": {cfg, cfg},
		"no cfg":    {{Path: filepath.Join(l.Maps(), "a.map")}},
		"escape":    {cfg, {Path: l.Etc + "/../x"}},
	} {
		if err := New(l).Check(set); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSnapshotRestores(t *testing.T) {
	l := testLayout(t)
	s := New(l)
	old := files.Set{
		{Path: filepath.Join(l.Etc, "00-init.cfg"), Data: []byte("defaults\n")},
		{Path: filepath.Join(l.Certs(), "k.pem"), Data: []byte("K"), Private: true},
	}
	apply(t, s, old)
	snap, err := New(l).Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(snap, old) {
		t.Fatalf("snapshot %+v, want %+v", snap, old)
	}
	apply(t, s, files.Set{{Path: filepath.Join(l.Etc, "00-global.cfg"), Data: []byte("global\n")}})
	apply(t, s, snap)
	again, _ := New(l).Snapshot()
	if !reflect.DeepEqual(again, old) {
		t.Errorf("after restore %+v, want %+v", again, old)
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
