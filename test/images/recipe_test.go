package images

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The project's Dockerfiles read as the images are built: what each final
// stage copies where, what it installs, and the config it ends with on its
// stand-in base.
func TestDockerfileRecipes(t *testing.T) {
	haproxyBase := v1.Config{User: "99:99", Entrypoint: []string{"docker-entrypoint.sh"},
		Cmd: []string{"haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"}, WorkingDir: "/var/lib/haproxy", StopSignal: "SIGUSR1"}
	for _, tc := range []struct {
		name   string
		base   v1.Config
		pkg    string
		copies []copyFile
		apk    []string
		want   v1.Config
	}{{
		name:   Controller,
		base:   haproxyBase,
		pkg:    "./controller/cmd/haproxy-ingress-controller",
		copies: []copyFile{{"/out/haproxy-ingress-controller", "/usr/local/bin/haproxy-ingress-controller"}},
		apk:    []string{"dumb-init"},
		// ENTRYPOINT drops the base's CMD; WORKDIR is inherited, STOPSIGNAL
		// set back to SIGTERM (the base's SIGUSR1 would be ignored).
		want: v1.Config{User: "99:99", Entrypoint: []string{"/usr/bin/dumb-init", "--", "/usr/local/bin/haproxy-ingress-controller"},
			WorkingDir: "/var/lib/haproxy", StopSignal: "SIGTERM"},
	}, {
		name:   Fn,
		base:   v1.Config{User: "65532", WorkingDir: "/home/nonroot"},
		pkg:    "./fn",
		copies: []copyFile{{"/out/external-haproxy-fn", "/usr/local/bin/external-haproxy-fn"}},
		want:   v1.Config{User: "65532", WorkingDir: "/home/nonroot", Entrypoint: []string{"/usr/local/bin/external-haproxy-fn"}},
	}, {
		name:   Echo,
		base:   v1.Config{User: "65532", WorkingDir: "/home/nonroot"},
		pkg:    "./test/echoserver",
		copies: []copyFile{{"/out/echoserver", "/usr/local/bin/echoserver"}},
		want:   v1.Config{User: "65532", WorkingDir: "/home/nonroot", Entrypoint: []string{"/usr/local/bin/echoserver"}},
	}, {
		name:   Pause,
		pkg:    "./test/images/pause",
		copies: []copyFile{{"/out/pause", "/pause"}},
		want:   v1.Config{User: "65535:65535", Entrypoint: []string{"/pause"}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := parseDockerfile(repoRoot(), dockerfiles[tc.name])
			if err != nil {
				t.Fatal(err)
			}
			if len(r.builds) != 1 || r.builds[0].pkgs[0] != tc.pkg || !strings.Contains(strings.Join(r.builds[0].env, " "), "CGO_ENABLED=0") {
				t.Errorf("builds = %+v, want one static go build of %s", r.builds, tc.pkg)
			}
			if diff := cmp.Diff(tc.copies, r.copies, cmp.AllowUnexported(copyFile{})); diff != "" {
				t.Errorf("copies (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.apk, r.apk); diff != "" {
				t.Errorf("apk (-want +got):\n%s", diff)
			}
			if _, ok := fromImages[r.base]; !ok {
				t.Errorf("FROM %s has no stand-in", r.base)
			}
			got := tc.base
			for _, f := range r.config {
				f(&got)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

// Docker's semantics where they differ from the obvious, and the refusal of
// what this builder cannot reproduce.
func TestRecipeSemantics(t *testing.T) {
	const build = "FROM golang:1.26 AS build\nRUN CGO_ENABLED=0 go build -ldflags=\"-s -w\" -o /out/x ./x\n"
	for _, tc := range []struct {
		name, final string
		base, want  v1.Config
		copies      []copyFile
		err         string
	}{{
		name:  "CMD before ENTRYPOINT survives it, a base's CMD does not",
		final: "FROM scratch\nCMD [\"a\"]\nENTRYPOINT /bin/x --flag\n",
		base:  v1.Config{Cmd: []string{"base"}},
		want:  v1.Config{Cmd: []string{"a"}, Entrypoint: []string{"/bin/sh", "-c", "/bin/x --flag"}},
	}, {
		name:   "relative COPY into WORKDIR, several sources into a directory",
		final:  "FROM scratch\nWORKDIR /app\nWORKDIR sub\nCOPY --from=build /out/x bin\nCOPY --from=build /out/x /out/x /many\n",
		want:   v1.Config{WorkingDir: "/app/sub"},
		copies: []copyFile{{"/out/x", "/app/sub/bin"}, {"/out/x", "/many/x"}, {"/out/x", "/many/x"}},
	}, {
		name:  "ENV replaces in place",
		final: "FROM scratch\nENV A=1 B=2\nENV PATH /p\n",
		base:  v1.Config{Env: []string{"PATH=/bin", "Z=0"}},
		want:  v1.Config{Env: []string{"PATH=/p", "Z=0", "A=1", "B=2"}},
	}, {
		name:  "expansion",
		final: "FROM scratch\nENV A=$PATH\n",
		err:   "variable expansion",
	}, {
		name:  "other RUN",
		final: "FROM scratch\nRUN apt-get install x\n",
		err:   "apk add",
	}, {
		name:  "COPY from the context",
		final: "FROM scratch\nCOPY x /x\n",
		err:   "COPY --from=build",
	}, {
		name:  "unsupported instruction",
		final: "FROM scratch\nHEALTHCHECK CMD true\n",
		err:   "not supported",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(build+tc.final), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := parseDockerfile(dir, "Dockerfile")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"-ldflags=-s -w", "./x"}; !cmp.Equal(r.builds[0].args, want) {
				t.Errorf("go build args = %q, want %q", r.builds[0].args, want)
			}
			got := tc.base
			for _, f := range r.config {
				f(&got)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.copies, r.copies, cmp.AllowUnexported(copyFile{})); diff != "" {
				t.Errorf("copies (-want +got):\n%s", diff)
			}
		})
	}
}
