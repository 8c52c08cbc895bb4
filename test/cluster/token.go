package cluster

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// tokenLifetime outlasts any test run; the cluster itself lives shorter.
const tokenLifetime int64 = 24 * 60 * 60

// TokenKubeconfig requests a token for the existing ServiceAccount ns/sa via the
// TokenRequest API (what `kubectl create token` does) and writes a kubeconfig
// for it to path. Use it to run a controller, or kubectl, with exactly the
// permissions its RBAC grants. The returned config is the same identity.
func (c *Cluster) TokenKubeconfig(ctx context.Context, ns, sa, path string) (*rest.Config, error) {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return nil, err
	}
	expiry := tokenLifetime
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("token for serviceaccount %s/%s: %w", ns, sa, err)
	}
	user := "system:serviceaccount:" + ns + ":" + sa
	if err := writeKubeconfig(path, c.Host, c.CAPEM, user, tr.Status.Token); err != nil {
		return nil, err
	}
	return clientcmd.BuildConfigFromFlags("", path)
}
