package haproxy

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/haproxy/filestore"
	"github.com/external-haproxy/kit/internal/loopback"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// TestRestartedDriverAfterCrashPoints abandons a driver at each point where
// a controller can be killed during an update, starts a new driver on the
// same directories (a restarted controller) and requires the new set to be
// served: the loaded marker may vouch for the worker only after haproxy
// confirmed every change. A confirmed runtime change, by contrast, is
// trusted, so the restart does not reload.
func TestRestartedDriverAfterCrashPoints(t *testing.T) {
	haproxybin.Run(t, testRestartedDriverAfterCrashPoints)
}

func testRestartedDriverAfterCrashPoints(t *testing.T, _ haproxybin.Build) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// crash runs the first driver's part of the update to set, then
		// drops that driver.
		crash      func(t *testing.T, d *Driver, l files.Layout, set files.Set)
		wantReload bool
	}{
		{"files written, reload not sent", func(t *testing.T, d *Driver, l files.Layout, set files.Set) {
			// What Update does before it reloads.
			st := filestore.New(l)
			plan, err := st.Plan(set)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Apply(set, plan); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"persisted, no runtime command sent", func(t *testing.T, d *Driver, _ files.Layout, set files.Set) {
			persist(t, d, set)
		}, true},
		{"persisted, a runtime command failed", func(t *testing.T, d *Driver, _ files.Layout, set files.Set) {
			persist(t, d, set)
			if out, err := d.Runtime(ctx, "set server be_none/srv1 state maint"); err == nil && out == "" {
				t.Fatal("a command on a missing server succeeded")
			}
		}, true},
		{"persisted, every command confirmed", func(t *testing.T, d *Driver, l files.Layout, set files.Set) {
			persist(t, d, set)
			// The runtime form of the change: the frontend's answer is
			// switched by the same map value the new files hold.
			if _, err := d.Runtime(ctx, "set map "+l.Maps()+"/hosts.map app.example.com gen-2"); err != nil {
				t.Fatal(err)
			}
			d.Confirm()
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLayout(t)
			startExternal(t, l)
			port := loopback.Ports(t, 1)[0]
			first := New(Options{Layout: l, Binary: haproxyBinary(t), ConnectionTimeout: 10 * time.Second})
			if _, err := first.Update(ctx, mapAnswerSet(l, port, "gen-1")); err != nil {
				t.Fatal(err)
			}
			if body := get(t, port); body != "gen-1" {
				t.Fatalf("served %q, want gen-1", body)
			}
			next := mapAnswerSet(l, port, "gen-2")
			tc.crash(t, first, l, next)

			restarted := New(Options{Layout: l, Binary: haproxyBinary(t), ConnectionTimeout: 10 * time.Second})
			res, err := restarted.Update(ctx, next)
			if err != nil {
				t.Fatal(err)
			}
			if res.Reloaded != tc.wantReload {
				t.Errorf("restarted driver reloaded: %v, want %v", res.Reloaded, tc.wantReload)
			}
			if body := get(t, port); body != "gen-2" {
				t.Errorf("after the restart haproxy serves %q, want gen-2", body)
			}
		})
	}
}

// mapAnswerSet is configSet whose frontend answers with the map value of
// app.example.com, so a runtime "set map" changes what it serves.
func mapAnswerSet(l files.Layout, port int, answer string) files.Set {
	set := configSet(l, port, "%[str(app.example.com),map("+l.Maps()+"/hosts.map)]", "")
	for i := range set {
		switch filepath.Base(set[i].Path) {
		case "20-frontends.cfg":
			set[i].Data = bytes.Replace(set[i].Data, []byte(" string "), []byte(" lf-string "), 1)
		case "hosts.map":
			set[i].Data = []byte("app.example.com " + answer + "\n")
		}
	}
	return set
}

// persist writes set as Driver.Persist prepares it.
func persist(t *testing.T, d *Driver, set files.Set) {
	t.Helper()
	write, err := d.Persist(set)
	if err == nil {
		err = write()
	}
	if err != nil {
		t.Fatal(err)
	}
}
