package haproxybin

import (
	"os/exec"
	"strings"
	"testing"
)

// Each subtest gets its own build, and the binary really is that version.
func TestRunGivesEachBuild(t *testing.T) {
	var seen []string
	Run(t, func(t *testing.T, b Build) {
		if Path(t) != b.Path {
			t.Errorf("Path %q, want %q", Path(t), b.Path)
		}
		out, err := exec.Command(b.Path, "-v").Output()
		if err != nil || !strings.HasPrefix(string(out), "HAProxy version "+b.Name+".") {
			t.Errorf("%s -v: %v %.60q", b.Path, err, out)
		}
		seen = append(seen, b.Name)
	})
	if strings.Join(seen, " ") != "2.6 3.0" {
		t.Errorf("builds %v, want 2.6 and 3.0", seen)
	}
}

func TestAtLeast(t *testing.T) {
	for _, tc := range []struct {
		build, version string
		want           bool
	}{
		{"2.6", "2.7", false}, {"3.0", "2.7", true}, {"3.0", "3.0", true}, {"2.10", "2.7", true}, {"3.0", "3.1", false},
	} {
		if got := (Build{Name: tc.build}).AtLeast(tc.version); got != tc.want {
			t.Errorf("%s.AtLeast(%s) = %v", tc.build, tc.version, got)
		}
	}
}
