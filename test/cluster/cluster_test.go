package cluster_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	"github.com/external-haproxy/kit/test/cluster/clustertest"
	"github.com/external-haproxy/kit/test/poll"
)

func TestMain(m *testing.M) { clustertest.Main(m) }

// The ServiceAccount kubeconfig must be denied until RBAC grants access; with
// the apiserver's default AlwaysAllow it would not be.
func TestRBACIsEnforcedForServiceAccountTokens(t *testing.T) {
	ctx := context.Background()
	c := clustertest.Shared(t)
	admin := clustertest.Client(t)
	ns := clustertest.NewNamespace(t)

	if _, err := admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "controller"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	saCfg, err := c.TokenKubeconfig(ctx, ns, "controller", filepath.Join(t.TempDir(), "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	sa := kubernetes.NewForConfigOrDie(saCfg)

	_, err = sa.NetworkingV1().Ingresses(ns).List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("listing ingresses before any RBAC grant: got %v, want Forbidden", err)
	}

	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: ns + "-ingress-reader"},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{"networking.k8s.io"},
			Resources: []string{"ingresses"},
			Verbs:     []string{"get", "list", "watch"},
		}},
	}
	if _, err := admin.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "controller"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The RBAC authorizer reads roles from an informer cache, so the grant
	// takes effect shortly after the create returns, not at once.
	if err := poll.Every(ctx, 30*time.Second, 100*time.Millisecond, func() (bool, error) {
		_, err := sa.NetworkingV1().Ingresses(ns).List(ctx, metav1.ListOptions{})
		if apierrors.IsForbidden(err) {
			return false, nil
		}
		return err == nil, err
	}, nil); err != nil {
		t.Fatalf("listing ingresses after the grant: %v", err)
	}

	_, err = sa.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("listing secrets (never granted): got %v, want Forbidden", err)
	}
}

// Documents the gotcha that forces e2e tests to use non-loopback addresses in
// EndpointSlices even though their backends listen on 127.0.0.1.
func TestEndpointSliceRejectsLoopback(t *testing.T) {
	ctx := context.Background()
	cs := clustertest.Client(t)
	ns := clustertest.NewNamespace(t)

	slice := func(name, addr string) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{
				Name:   name,
				Labels: map[string]string{discoveryv1.LabelServiceName: "echo"},
			},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{addr}}},
		}
	}
	if _, err := cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, slice("private", "10.1.2.3"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("EndpointSlice with 10.1.2.3: %v", err)
	}
	_, err := cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, slice("loopback", "127.0.0.1"), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("EndpointSlice with 127.0.0.1: got %v, want Invalid (loopback range)", err)
	}
}

// Restart must keep etcd's data and the address, so that running informers
// reconnect on their own and see changes made after the restart.
func TestRestartKeepsDataAndInformersResume(t *testing.T) {
	ctx := context.Background()
	c := clustertest.Start(t) // own control plane: restarting the shared one would disturb other tests
	cs := kubernetes.NewForConfigOrDie(c.Config)

	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "restart"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm := func(name string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"k": name}}
	}
	if _, err := cs.CoreV1().ConfigMaps(ns.Name).Create(ctx, cm("before"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns.Name))
	lister := factory.Core().V1().ConfigMaps().Lister()
	stop := make(chan struct{})
	factory.Start(stop)
	// Deferred in this order so the informers are told to stop before
	// Shutdown waits for them.
	defer factory.Shutdown()
	defer close(stop)
	for typ, ok := range factory.WaitForCacheSync(stop) {
		if !ok {
			t.Fatalf("informer for %v did not sync", typ)
		}
	}

	t0 := time.Now()
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("apiserver restarted and ready in %v", time.Since(t0).Round(time.Millisecond))

	got, err := cs.CoreV1().ConfigMaps(ns.Name).Get(ctx, "before", metav1.GetOptions{})
	if err != nil || got.Data["k"] != "before" {
		t.Fatalf("ConfigMap created before the restart: %v, %v", got, err)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns.Name).Create(ctx, cm("after"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := poll.Every(ctx, 60*time.Second, 100*time.Millisecond, func() (bool, error) {
		_, err := lister.ConfigMaps(ns.Name).Get("after")
		return err == nil, nil
	}, nil); err != nil {
		t.Fatalf("informer did not see a ConfigMap created after the restart: %v", err)
	}
}
