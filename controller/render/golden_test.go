package render_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/manifests"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/render"
	"github.com/external-haproxy/kit/test/haproxybin"
)

// goldenLayout is the layout the expected files are rendered for.
var goldenLayout = files.DefaultLayout("")

// caseOptions is testdata/<case>/options.yaml.
type caseOptions struct {
	DefaultBackendService string `json:"defaultBackendService"`
	NoDefaultCertificate  bool   `json:"noDefaultCertificate"`
	// TCPServicesConfigMap is --tcp-services-configmap: that ConfigMap of
	// input.yaml holds TCP services, not the global configuration.
	TCPServicesConfigMap string `json:"tcpServicesConfigMap"`
}

// loadCase builds the model of testdata/<name>: input.yaml holds the
// objects, its ConfigMap (at most one) is the global configuration.
func loadCase(t testing.TB, name string) (*model.Model, []model.Problem) {
	t.Helper()
	dir := filepath.Join("testdata", name)
	objs, err := manifests.LoadPaths(filepath.Join(dir, "input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var opts caseOptions
	if data, err := os.ReadFile(filepath.Join(dir, "options.yaml")); err == nil {
		if err := yaml.UnmarshalStrict(data, &opts); err != nil {
			t.Fatal(err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	snap := &model.Snapshot{
		Ingresses:      objs.Ingresses,
		Services:       objs.Services,
		EndpointSlices: objs.EndpointSlices,
		Secrets:        objs.Secrets,
	}
	var global []*corev1.ConfigMap
	for _, cm := range objs.ConfigMaps {
		if cm.Namespace+"/"+cm.Name == opts.TCPServicesConfigMap {
			snap.TCPServices = &model.TCPServicesSource{Source: model.Ref{Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name}, Data: cm.Data}
		} else {
			global = append(global, cm)
		}
	}
	if len(global) > 1 {
		t.Fatal("more than one global ConfigMap")
	}
	if len(global) == 1 {
		snap.ConfigMap = global[0].Data
	}
	o := model.Options{DefaultBackendService: opts.DefaultBackendService}
	if !opts.NoDefaultCertificate {
		if o.DefaultCertificate, err = os.ReadFile("testdata/default-cert.pem"); err != nil {
			t.Fatal(err)
		}
	}
	return model.Build(snap, o)
}

func goldenCases(t *testing.T) []string {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

func problemsText(ps []model.Problem) []byte {
	var b bytes.Buffer
	for _, p := range ps {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// TestGolden compares the rendered files and the problems of every case
// with testdata/<case>/expected; UPDATE_EXPECTED=true rewrites them.
func TestGolden(t *testing.T) {
	update := os.Getenv("UPDATE_EXPECTED") == "true"
	for _, name := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			m, problems := loadCase(t, name)
			got := map[string][]byte{"problems.txt": problemsText(problems)}
			for _, f := range render.Render(m, goldenLayout) {
				got[strings.TrimPrefix(f.Path, "/")] = f.Data
			}
			again := render.Render(m, goldenLayout)
			for _, f := range again {
				if !bytes.Equal(got[strings.TrimPrefix(f.Path, "/")], f.Data) {
					t.Errorf("render is not stable for %s", f.Path)
				}
			}
			expDir := filepath.Join("testdata", name, "expected")
			if update {
				if err := os.RemoveAll(expDir); err != nil {
					t.Fatal(err)
				}
				for rel, data := range got {
					p := filepath.Join(expDir, rel)
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			seen := map[string]bool{}
			err := filepath.WalkDir(expDir, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(expDir, p)
				seen[rel] = true
				want, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if g, ok := got[rel]; !ok {
					t.Errorf("%s: expected but not rendered", rel)
				} else if !bytes.Equal(g, want) {
					t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", rel, g, want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for rel := range got {
				if !seen[rel] {
					t.Errorf("%s: rendered but not expected", rel)
				}
			}
		})
	}
}

// TestHAProxyCheck runs the real haproxy -c on every golden case.
func TestHAProxyCheck(t *testing.T) { haproxybin.Run(t, testHAProxyCheck) }

func testHAProxyCheck(t *testing.T, hb haproxybin.Build) {
	bin := hb.Path
	for _, name := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			m, _ := loadCase(t, name)
			// A directory name that needs quoting checks every path's quotes.
			tmp := filepath.Join(haproxybin.TempDir(t), oddDir)
			l := files.Layout{Etc: filepath.Join(tmp, "etc"), Lib: filepath.Join(tmp, "lib"), Run: filepath.Join(tmp, "run")}
			for _, f := range render.Render(m, l) {
				if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
					t.Fatal(err)
				}
				mode := os.FileMode(0o644)
				if f.Private {
					mode = 0o600
				}
				if err := os.WriteFile(f.Path, f.Data, mode); err != nil {
					t.Fatal(err)
				}
			}
			out, err := exec.Command(bin, "-c", "-f", l.Etc).CombinedOutput()
			var exit *exec.ExitError
			// Exit 2 is "valid but no listener", which is fine here.
			if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 2) {
				t.Fatalf("haproxy -c: %v\n%s", err, out)
			}
			if bytes.Contains(out, []byte("[WARNING]")) {
				t.Errorf("haproxy -c warnings:\n%s", out)
			}
		})
	}
}
