// Package argocd runs Argo CD's own repo-server, with Config Management Plugin
// sidecars (argocd-cmp-server) and a Redis stand-in, as local processes on
// 127.0.0.1, and asks it for an Application's manifests the way the
// application controller does (GenerateManifest over gRPC). The binaries are
// Argo CD's unmodified commands built by hack/argocd-bins.sh
// (test/argocdbin), found through $ARGOCD_BIN_DIR.
//
// Each process gets a private directory (0700) for its sockets, work and
// temporary files and home, and an environment made from scratch: $PATH is
// exactly what the test says the container provides, nothing of the caller's.
package argocd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/external-haproxy/kit/internal/loopback"
	"github.com/external-haproxy/kit/test/cachedbin"
	"github.com/external-haproxy/kit/test/proc"
)

// BinDirEnv names the directory with the binaries of hack/argocd-bins.sh.
// `export ARGOCD_BIN_DIR=$(hack/argocd-bins.sh)` sets it for a shell session.
const BinDirEnv = "ARGOCD_BIN_DIR"

// Binaries is the set hack/argocd-bins.sh builds.
var Binaries = cachedbin.Set{
	Env:    BinDirEnv,
	Script: "hack/argocd-bins.sh",
	Names:  []string{"argocd-repo-server", "argocd-cmp-server", "argocd-redis", "argocd-generate", "kustomize"},
}

// BundledKustomize is the kustomize release that Argo CD's image ships (its
// hack/tool-versions.sh), for the repo-server's $PATH.
func BundledKustomize(t testing.TB) string {
	t.Helper()
	dir, err := Binaries.Find(context.Background(), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "kustomize")
}

// readyTimeout bounds the wait for each server to accept connections: a cold
// start on a loaded 2-core machine.
const readyTimeout = 60 * time.Second

// Sidecar is one Config Management Plugin sidecar of the repo-server pod.
type Sidecar struct {
	// ConfigFile is the plugin.yaml the sidecar has at
	// /home/argocd/cmp-server/config/plugin.yaml.
	ConfigFile string
	// Path is $PATH inside the sidecar: what its image provides to the
	// plugin's commands.
	Path []string
}

// Options configures Start.
type Options struct {
	// Path is $PATH of the repo-server container (Argo CD's image ships
	// BundledKustomize and git).
	Path     []string
	Sidecars []Sidecar
}

// RepoServer is a running argocd-repo-server.
type RepoServer struct {
	Addr    string // 127.0.0.1:<port>, plaintext gRPC
	bin     string
	dir     string
	plugins []string // names (name-version) the sidecars serve
}

// Start launches the Redis stand-in, the sidecars and the repo-server, waits
// until each accepts connections, and stops them when the test ends (their
// logs are printed if it failed).
func Start(t testing.TB, opts Options) *RepoServer {
	t.Helper()
	bin, err := Binaries.Find(context.Background(), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	// os.MkdirTemp, not t.TempDir: unix socket paths must stay under 108 bytes.
	dir, err := os.MkdirTemp("", "argocd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) }) // registered first, so it runs after the processes stopped
	s := &RepoServer{bin: bin, dir: dir}
	sockets := s.mkdir(t, "plugins") // the volume the pod's containers share

	ports := loopback.Ports(t, 3)
	redisAddr := "127.0.0.1:" + strconv.Itoa(ports[0])
	s.start(t, "redis", s.env(t, s.mkdir(t, "redis"), nil), "argocd-redis", []string{"--address", redisAddr}, "tcp", redisAddr)

	for i, sc := range opts.Sidecars {
		name, err := pluginName(sc.ConfigFile)
		if err != nil {
			t.Fatal(err)
		}
		s.plugins = append(s.plugins, name)
		home := s.mkdir(t, fmt.Sprintf("cmp-%d", i))
		config := s.mkdir(t, fmt.Sprintf("cmp-%d/config", i))
		b, err := os.ReadFile(sc.ConfigFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(config, "plugin.yaml"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		env := s.env(t, home, sc.Path,
			"ARGOCD_PLUGINSOCKFILEPATH="+sockets,
			"ARGOCD_CMP_WORKDIR="+s.mkdir(t, fmt.Sprintf("cmp-%d/work", i)),
		)
		s.start(t, "cmp-"+name, env, "argocd-cmp-server", []string{"--config-dir-path", config, "--logformat", "text"},
			"unix", filepath.Join(sockets, name+".sock"))
	}

	home := s.mkdir(t, "repo-server")
	env := s.env(t, home, opts.Path,
		"ARGOCD_PLUGINSOCKFILEPATH="+sockets,
		"ARGOCD_GPG_ENABLED=false",
		"ARGOCD_ASK_PASS_SOCK="+filepath.Join(home, "askpass.sock"),
		"ARGOCD_SSH_DATA_PATH="+s.mkdir(t, "repo-server/ssh"),
		"ARGOCD_TLS_DATA_PATH="+s.mkdir(t, "repo-server/tls"),
	)
	s.Addr = "127.0.0.1:" + strconv.Itoa(ports[1])
	s.start(t, "repo-server", env, "argocd-repo-server", []string{
		"--address", "127.0.0.1", "--port", strconv.Itoa(ports[1]),
		"--metrics-address", "127.0.0.1", "--metrics-port", strconv.Itoa(ports[2]),
		"--disable-tls", "--redis", redisAddr, "--logformat", "text",
	}, "tcp", s.Addr)
	return s
}

// Plugins are the plugin names (name-version) the sidecars serve.
func (s *RepoServer) Plugins() []string { return s.plugins }

// Request is an Application's source, as far as the tests vary it.
type Request struct {
	Repo     string // spec.source.repoURL
	Revision string // spec.source.targetRevision
	Path     string // spec.source.path
	Plugin   string // spec.source.plugin.name; empty lets Argo CD detect the type
	App      string // Application name; empty: haproxy-ingress
}

// Response is what the repo-server answers (apiclient.ManifestResponse).
type Response struct {
	Manifests  []string // one JSON object each
	Namespace  string
	Revision   string // the commit the revision resolved to
	SourceType string // Kustomize, Plugin, ...
	Commands   []string
}

// Error is a failed GenerateManifest: the gRPC error text Argo CD returns.
type Error struct{ Text string }

func (e *Error) Error() string { return e.Text }

// Generate asks for the manifests of req. A refused request is an *Error.
func (s *RepoServer) Generate(t testing.TB, req Request) (*Response, error) {
	t.Helper()
	args := []string{"--server", s.Addr, "--repo", req.Repo, "--revision", req.Revision, "--path", req.Path}
	if req.Plugin != "" {
		args = append(args, "--plugin", req.Plugin)
	}
	if req.App != "" {
		args = append(args, "--app", req.App)
	}
	cmd := exec.Command(filepath.Join(s.bin, "argocd-generate"), args...)
	cmd.Env = []string{"HOME=" + s.dir}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return nil, &Error{Text: strings.TrimSpace(stderr.String())}
	}
	if err != nil {
		t.Fatalf("argocd-generate %q: %v\n%s", args, err, stderr.String())
	}
	var resp Response
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		t.Fatalf("argocd-generate printed no response: %v\n%s", err, stdout.String())
	}
	return &resp, nil
}

func (s *RepoServer) mkdir(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(s.dir, rel)
	if err := os.MkdirAll(p, 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

// env is a container's environment: its $PATH, home and temporary dir, plus
// extra, and nothing from the test's own environment.
func (s *RepoServer) env(t testing.TB, home string, path []string, extra ...string) []string {
	tmp := filepath.Join(home, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	return append([]string{
		"PATH=" + strings.Join(path, string(os.PathListSeparator)),
		"HOME=" + home,
		// The repo-server keeps its checkouts in $TMPDIR/_argocd-repo and
		// adopts the clones it finds there at start; kustomize clones remote
		// bases into $TMPDIR. A shared /tmp would mix them with others'.
		"TMPDIR=" + tmp,
		"GIT_CONFIG_NOSYSTEM=1",
	}, extra...)
}

func pluginName(configFile string) (string, error) {
	b, err := os.ReadFile(configFile)
	if err != nil {
		return "", err
	}
	var p struct {
		Metadata struct{ Name string }
		Spec     struct{ Version string }
	}
	if err := yaml.Unmarshal(b, &p); err != nil {
		return "", fmt.Errorf("%s: %w", configFile, err)
	}
	if p.Spec.Version == "" {
		return p.Metadata.Name, nil
	}
	return p.Metadata.Name + "-" + p.Spec.Version, nil
}

// start runs one server with its log in the private dir, waits until it
// accepts connections on network/addr, and stops it when the test ends.
func (s *RepoServer) start(t testing.TB, name string, env []string, command string, args []string, network, addr string) {
	t.Helper()
	p := &proc.Process{Name: name, Dir: s.dir, Bin: filepath.Join(s.bin, command), Args: args, Env: env}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if command == "argocd-cmp-server" {
			// v3.2.0 does not exit on SIGTERM: it removes its socket and
			// serves on until the kubelet kills it after the grace period.
			p.Kill()
		} else {
			p.Stop()
		}
		if t.Failed() {
			t.Logf("%s log (%s):\n%s", name, p.LogPath(), p.Tail(30))
		}
	})
	err := p.WaitReady(context.Background(), readyTimeout, func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return err
		}
		return c.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}
