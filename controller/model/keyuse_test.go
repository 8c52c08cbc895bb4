package model_test

import (
	"reflect"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/external-haproxy/kit/controller/model"
)

// TestKeyUsesClassParameters: the IngressClass parameters are listed with
// the status Build gives them; annotations outside our prefixes are not
// keys.
func TestKeyUsesClassParameters(t *testing.T) {
	class := "edge"
	ing := ingress("a", "a.test", "/", "web")
	ing.Spec.IngressClassName = &class
	ing.Annotations = map[string]string{"example.com/ssl-redirect": "x", "haproxy-ingress.github.io/hsts": "maybe"}
	params := model.Ref{Kind: "ConfigMap", Namespace: "ingress", Name: "edge-params"}
	got := model.KeyUses(&model.Snapshot{Ingresses: []*networkingv1.Ingress{ing},
		ClassParameters: map[string]model.ClassParameters{class: {Source: params, Data: map[string]string{"timeout-server": "1m", "stats-port": "1", "cors-enabled": "true"}}}},
		model.Options{})
	ingRef := model.Ref{Kind: "Ingress", Namespace: "ns", Name: "a"}
	want := []model.KeyUse{
		{Object: params, Key: "cors-enabled", Value: "true", Status: model.KeyIgnored, Detail: "unknown key, ignored"},
		{Object: params, Key: "stats-port", Value: "1", Status: model.KeyIgnored, Detail: "global key, read from the global ConfigMap only; ignored"},
		{Object: params, Key: "timeout-server", Value: "1m", Status: model.KeySupported},
		{Object: ingRef, Key: "haproxy-ingress.github.io/hsts", Value: "maybe", Status: model.KeyInvalid,
			Detail: `invalid value "maybe", want true or false; using the default`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("key uses:\n%+v\nwant:\n%+v", got, want)
	}
}
