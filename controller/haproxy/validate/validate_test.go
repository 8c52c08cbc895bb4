package validate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/test/haproxybin"
)

func frontendSet(l files.Layout, routing string) files.Set {
	return files.Set{
		{Path: filepath.Join(l.Etc, "00-global.cfg"), Data: []byte("global\n    log stderr format raw local0 notice\n")},
		{Path: filepath.Join(l.Etc, "20-frontends.cfg"), Data: []byte(`defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:65001
` + routing + `
`)},
		{Path: filepath.Join(l.Maps(), "hosts.map"), Data: []byte("a.example.com be_a\n")},
	}
}

func TestCheck(t *testing.T) { haproxybin.Run(t, testCheck) }

func testCheck(t *testing.T, hb haproxybin.Build) {
	bin := hb.Path
	l := files.DefaultLayout(t.TempDir())
	c := Checker{Binary: bin, Layout: l}
	ctx := context.Background()
	useMap := "    use_backend %[req.hdr(host),map(" + filepath.Join(l.Maps(), "hosts.map") + ")]"

	// The map only exists in the candidate set, never on the live disk:
	// it validates only if the staged config reads the staged map.
	if err := c.Check(ctx, frontendSet(l, useMap)); err != nil {
		t.Fatalf("valid set rejected: %v", err)
	}
	// A map the set does not hold must fail, as it would on reload.
	missing := "    use_backend %[req.hdr(host),map(" + filepath.Join(l.Maps(), "other.map") + ")]"
	err := c.Check(ctx, frontendSet(l, missing))
	var verr *Error
	if !errors.As(err, &verr) {
		t.Fatalf("missing map accepted: %v", err)
	}

	err = c.Check(ctx, frontendSet(l, "    bogus-keyword"))
	if !errors.As(err, &verr) {
		t.Fatalf("unknown keyword: err %v", err)
	}
	live := filepath.Join(l.Etc, "20-frontends.cfg")
	if !strings.Contains(verr.Output, "bogus-keyword") || !strings.Contains(verr.Output, "["+live+":8]") {
		t.Errorf("output does not name the live file and keyword:\n%s", verr.Output)
	}
	if strings.Contains(verr.Output, ".check-") {
		t.Errorf("output leaks the staging path:\n%s", verr.Output)
	}
	if entries, _ := os.ReadDir(l.Lib); len(entries) != 0 {
		t.Errorf("staging left %v in %s", entries, l.Lib)
	}
	if _, err := os.Stat(live); !os.IsNotExist(err) {
		t.Error("Check wrote the live directory")
	}
}

func TestCheckNoListenerIsValid(t *testing.T) { haproxybin.Run(t, testCheckNoListenerIsValid) }

func testCheckNoListenerIsValid(t *testing.T, hb haproxybin.Build) {
	bin := hb.Path
	l := files.DefaultLayout(t.TempDir())
	set := files.Set{{Path: filepath.Join(l.Etc, "00-init.cfg"), Data: []byte("defaults\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n")}}
	if err := (Checker{Binary: bin, Layout: l}).Check(context.Background(), set); err != nil {
		t.Fatalf("exit 2 (no listener) treated as invalid: %v", err)
	}
}
