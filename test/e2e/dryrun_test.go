package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/external-haproxy/kit/test/cluster/clustertest"
	"github.com/external-haproxy/kit/test/e2eenv"
	"github.com/external-haproxy/kit/test/kubeapply"
	"github.com/external-haproxy/kit/test/poll"
	"github.com/external-haproxy/kit/test/testbin"
)

// applicationCRD is a minimal stand-in for Argo CD's Application CRD: the
// group, version, kind and scope are Argo CD's, the schema accepts any
// content. So the dry run checks that the Applications are well-formed
// objects the apiserver maps and admits, not Argo CD's own field schema.
const applicationCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: applications.argoproj.io
spec:
  group: argoproj.io
  names: {kind: Application, listKind: ApplicationList, plural: applications, singular: application, shortNames: [app, apps]}
  scope: Namespaced
  versions:
  - name: v1alpha1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`

// kptRender renders a copy of the kpt package with the function on $PATH
// and returns the package's resources, without its local-config objects
// (Kptfile, function config), which kpt live apply does not send either.
func kptRender(t *testing.T) []byte {
	t.Helper()
	kpt := testbin.Kpt(t)
	pkg := filepath.Join(t.TempDir(), "haproxy-ingress")
	testbin.CopyDir(t, filepath.Join(testbin.RepoRoot(), "overlays/kpt"), pkg)
	cmd := exec.Command(kpt, "fn", "render", "--allow-exec", pkg)
	cmd.Dir = t.TempDir()
	cmd.Env = testbin.EnvWithFn(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kpt fn render: %v\n%s", err, out)
	}
	var out bytes.Buffer
	entries, err := os.ReadDir(pkg)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(pkg, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		nodes, err := kio.FromBytes(b)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		for _, n := range nodes {
			if n.GetAnnotations()["config.kubernetes.io/local-config"] == "true" {
				continue
			}
			s, err := n.String()
			if err != nil {
				t.Fatal(err)
			}
			out.WriteString("---\n" + s)
		}
	}
	return out.Bytes()
}

func kustomizeBuild(t *testing.T, dir string, withFn bool) []byte {
	t.Helper()
	if withFn {
		out, err := e2eenv.Render(testbin.Kustomize(t), testbin.Dir(t), dir)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cmd := exec.Command(testbin.Kustomize(t), "build", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize build %s: %v\n%s", dir, err, stderr.String())
	}
	return out
}

func kinds(t *testing.T, manifests []byte) map[string]int {
	t.Helper()
	nodes, err := kio.FromBytes(manifests)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, n := range nodes {
		out[n.GetKind()]++
	}
	return out
}

// Every way to install the kit produces manifests the real apiserver
// accepts: a server-side apply dry run (full validation and admission,
// nothing stored).
func TestOverlaysPassServerSideDryRun(t *testing.T) {
	c := clustertest.Shared(t)
	cs := clustertest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	root := testbin.RepoRoot()
	// Namespaced objects need their namespace to exist; a dry run of the
	// Namespace object itself stores nothing.
	for _, ns := range []string{e2eenv.Namespace, "argocd"} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}

	outputs := []struct {
		name      string
		manifests func() []byte
		want      []string // kinds that must be there
	}{
		{"base (embedded)", func() []byte { return kustomizeBuild(t, filepath.Join(root, "base"), false) }, []string{"DaemonSet", "ClusterRole", "Role", "ConfigMap", "IngressClass"}},
		{"repo root (static overlay)", func() []byte { return kustomizeBuild(t, root, false) }, []string{"DaemonSet"}},
		{"overlays/external-haproxy-static", func() []byte {
			return kustomizeBuild(t, filepath.Join(root, "overlays/external-haproxy-static"), false)
		}, []string{"DaemonSet"}},
		{"overlays/external-haproxy (function)", func() []byte { return kustomizeBuild(t, filepath.Join(root, "overlays/external-haproxy"), true) }, []string{"DaemonSet"}},
		{"overlays/kpt (kpt fn render)", func() []byte { return kptRender(t) }, []string{"DaemonSet", "ClusterRole"}},
	}
	for _, o := range outputs {
		t.Run(o.name, func(t *testing.T) {
			m := o.manifests()
			k := kinds(t, m)
			for _, want := range o.want {
				if k[want] == 0 {
					t.Fatalf("no %s in the output: %v", want, k)
				}
			}
			if err := kubeapply.Apply(ctx, c.Config, m, true); err != nil {
				t.Fatalf("server-side dry run: %v", err)
			}
			t.Logf("accepted: %v", k)
		})
	}

	t.Run("argocd applications", func(t *testing.T) {
		// The Application CRD is not part of a bare control plane: install a
		// minimal one for real (see applicationCRD), then dry-run the
		// Applications once the apiserver serves the kind.
		if err := kubeapply.Apply(ctx, c.Config, []byte(applicationCRD), false); err != nil {
			t.Fatal(err)
		}
		m := kustomizeBuild(t, filepath.Join(root, "overlays/argocd/applications"), false)
		if k := kinds(t, m); k["Application"] != 2 {
			t.Fatalf("want 2 Applications, got %v", k)
		}
		var err error
		// The CRD needs a moment before its kind is served.
		_ = poll.Every(ctx, 30*time.Second, 200*time.Millisecond, func() (bool, error) {
			err = kubeapply.Apply(ctx, c.Config, m, true)
			return err == nil || !strings.Contains(err.Error(), "no matches for kind"), nil
		}, nil)
		if err != nil {
			t.Fatalf("server-side dry run: %v", err)
		}
	})

	t.Run("nothing stored", func(t *testing.T) {
		if _, err := cs.AppsV1().DaemonSets(e2eenv.Namespace).Get(ctx, e2eenv.Workload, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("DaemonSet after dry runs: %v, want NotFound", err)
		}
		if _, err := cs.RbacV1().ClusterRoles().Get(ctx, e2eenv.Workload, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("ClusterRole after dry runs: %v, want NotFound", err)
		}
	})

	// The dry run really validates: an invalid object is refused.
	t.Run("invalid object refused", func(t *testing.T) {
		bad := []byte("apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: bad\n  namespace: " + e2eenv.Namespace +
			"\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: c}}\n    spec:\n      containers: [{name: x, image: x}]\n")
		err := kubeapply.Apply(ctx, c.Config, bad, true)
		if err == nil || !strings.Contains(err.Error(), "selector") {
			t.Fatalf("DaemonSet whose selector does not match its template: %v, want a selector error", err)
		}
		t.Logf("refused: %v", err)
	})
}
