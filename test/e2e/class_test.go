package e2e

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/external-haproxy/kit/test/e2eenv"
)

// otherClass creates the IngressClass "other" of another controller.
func (r *rt) otherClass() {
	r.t.Helper()
	ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "other"}, Spec: networkingv1.IngressClassSpec{Controller: "example.com/other"}}
	if _, err := r.env.Admin.NetworkingV1().IngressClasses().Create(r.ctx, ic, metav1.CreateOptions{}); err != nil {
		r.t.Fatal(err)
	}
}

func setClass(class string) func(*networkingv1.Ingress) {
	return func(ing *networkingv1.Ingress) { ing.Spec.IngressClassName = &class }
}

// TestIngressClassDecidesWhatIsServed: an Ingress moved to another
// controller's class at run time stops being served and comes back when
// moved back; Ingresses without class are ignored until our IngressClass is
// made the default; the legacy annotation selects by its value.
func TestIngressClassDecidesWhatIsServed(t *testing.T) {
	r := newRT(t, nil)
	r.otherClass()
	r.service("svc", r.backend("echo"))
	const moving, noClass, annotated, annotatedOther, unknownClass = "moving.example.com", "noclass.example.com",
		"annotated.example.com", "annotated-other.example.com", "unknown-class.example.com"

	r.create(routeIngress("noclass", "", routeRule(noClass, prefixRoute("/", "svc"))))
	r.create(routeIngress("unknown-class", "missing", routeRule(unknownClass, prefixRoute("/", "svc"))))
	ann := routeIngress("annotated", "", routeRule(annotated, prefixRoute("/", "svc")))
	ann.Annotations = map[string]string{"kubernetes.io/ingress.class": "haproxy"}
	r.create(ann)
	annOther := routeIngress("annotated-other", "", routeRule(annotatedOther, prefixRoute("/", "svc")))
	annOther.Annotations = map[string]string{"kubernetes.io/ingress.class": "other"}
	r.create(annOther)
	r.create(routeIngress("moving", e2eenv.ClassName, routeRule(moving, prefixRoute("/", "svc"))))

	r.waitServer(moving, "/", "echo")
	r.waitServer(annotated, "/", "echo")
	// The Ingresses above were created before "moving": the configuration
	// serving it has seen them all.
	r.expectStatus(noClass, "/", 404)
	r.expectStatus(unknownClass, "/", 404)
	r.expectStatus(annotatedOther, "/", 404)

	r.update("moving", setClass("other"))
	r.waitStatus(moving, "/", 404)
	r.expectServer(annotated, "/", "echo")

	r.update("moving", setClass(e2eenv.ClassName))
	r.waitServer(moving, "/", "echo")
	r.expectStatus(noClass, "/", 404)

	// Our IngressClass becomes the cluster default: Ingresses without class
	// are ours; the other controller's annotation still is not.
	classes := r.env.Admin.NetworkingV1().IngressClasses()
	patch := func(v string) {
		t.Helper()
		p := `{"metadata":{"annotations":{"ingressclass.kubernetes.io/is-default-class":` + v + `}}}`
		if _, err := classes.Patch(r.ctx, e2eenv.ClassName, types.MergePatchType, []byte(p), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	patch(`"true"`)
	r.waitServer(noClass, "/", "echo")
	r.expectStatus(annotatedOther, "/", 404)
	r.expectStatus(unknownClass, "/", 404)
	patch(`null`)
	r.waitStatus(noClass, "/", 404)
	r.expectServer(moving, "/", "echo")
}
