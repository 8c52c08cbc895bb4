package quarantine_test

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/controller/blame"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/quarantine"
)

func ing(name, rv, host string) *networkingv1.Ingress {
	return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name, ResourceVersion: rv},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: host}}}}
}

func hosts(s *model.Snapshot) string {
	var out []string
	for _, i := range s.Ingresses {
		out = append(out, i.Name+"="+i.Spec.Rules[0].Host)
	}
	return strings.Join(out, ",")
}

var bravo = model.Ref{Kind: "Ingress", Namespace: "app", Name: "bravo"}

func TestObjectFallsBackToItsLastAcceptedVersion(t *testing.T) {
	good := &model.Snapshot{Ingresses: []*networkingv1.Ingress{ing("alpha", "1", "a"), ing("bravo", "2", "b-old")}}
	bad := &model.Snapshot{Ingresses: []*networkingv1.Ingress{ing("alpha", "1", "a"), ing("bravo", "5", "b-bad")}}
	var q quarantine.Quarantine
	if !q.Add(blame.Culprit{Object: bravo, Field: "spec.rules", Alert: "[ALERT] nope"}, bad) {
		t.Fatal("not held")
	}
	if q.Add(blame.Culprit{Object: bravo, Alert: "[ALERT] again"}, bad) {
		t.Error("held twice: a second round would not make progress")
	}
	got, problems := q.Apply(bad, good)
	if h := hosts(got); h != "alpha=a,bravo=b-old" {
		t.Errorf("served %s, want bravo's last accepted version", h)
	}
	if hosts(bad) != "alpha=a,bravo=b-bad" {
		t.Error("Apply changed the caller's snapshot")
	}
	if len(problems) != 1 || problems[0].Object != bravo || problems[0].Severity != model.Error ||
		!strings.Contains(problems[0].Message, "resourceVersion 2") || !strings.Contains(problems[0].Message, "[ALERT] nope") {
		t.Errorf("problems %+v", problems)
	}

	// Unchanged, it stays held; a new version is tried again.
	if got, _ := q.Apply(bad, good); hosts(got) != "alpha=a,bravo=b-old" {
		t.Errorf("released while unchanged: %s", hosts(got))
	}
	fixed := &model.Snapshot{Ingresses: []*networkingv1.Ingress{ing("alpha", "1", "a"), ing("bravo", "6", "b-new")}}
	if got, problems := q.Apply(fixed, good); hosts(got) != "alpha=a,bravo=b-new" || len(problems) != 0 || q.Len() != 0 {
		t.Errorf("a changed object must be released: %s %v", hosts(got), problems)
	}
}

func TestNewObjectWithoutAcceptedVersionIsLeftOut(t *testing.T) {
	snap := &model.Snapshot{Ingresses: []*networkingv1.Ingress{ing("alpha", "1", "a"), ing("bravo", "5", "b-bad")}}
	var q quarantine.Quarantine
	q.Add(blame.Culprit{Object: bravo, Alert: "x"}, snap)
	got, problems := q.Apply(snap, nil)
	if hosts(got) != "alpha=a" || len(problems) != 1 || !strings.Contains(problems[0].Message, "left out") {
		t.Errorf("served %s, problems %v", hosts(got), problems)
	}
	// Deleted: released.
	if _, problems := q.Apply(&model.Snapshot{}, nil); len(problems) != 0 || q.Len() != 0 {
		t.Errorf("a deleted object stays held: %v", problems)
	}
	if q.Add(blame.Culprit{Object: model.Ref{Kind: "Ingress", Namespace: "app", Name: "gone"}}, snap) {
		t.Error("held an object the snapshot does not have")
	}
}

func TestGlobalKeyFallsBackToItsDefault(t *testing.T) {
	snap := &model.Snapshot{ConfigMap: map[string]string{"syslog-endpoint": "x.invalid:514", "timeout-client": "1s"}}
	var q quarantine.Quarantine
	if !q.Add(blame.Culprit{Object: model.ConfigMapRef, Field: "syslog-endpoint", Alert: "bad"}, snap) {
		t.Fatal("not held")
	}
	got, problems := q.Apply(snap, nil)
	if _, ok := got.ConfigMap["syslog-endpoint"]; ok || got.ConfigMap["timeout-client"] != "1s" || snap.ConfigMap["syslog-endpoint"] == "" {
		t.Errorf("configmap %v (caller's %v)", got.ConfigMap, snap.ConfigMap)
	}
	if len(problems) != 1 || problems[0].Field != "syslog-endpoint" || !strings.Contains(problems[0].Message, `"x.invalid:514"`) {
		t.Errorf("problems %+v", problems)
	}
	snap.ConfigMap["syslog-endpoint"] = "127.0.0.1:514"
	if got, _ := q.Apply(snap, nil); got.ConfigMap["syslog-endpoint"] != "127.0.0.1:514" {
		t.Error("a changed value must be tried again")
	}
}

// TestClassParameterKeyLeftOut: a key of an IngressClass parameters
// ConfigMap (a config-backend snippet there) is held like a global one,
// in that ConfigMap only.
func TestClassParameterKeyLeftOut(t *testing.T) {
	params := model.Ref{Kind: "ConfigMap", Namespace: "ingress", Name: "edge"}
	snap := &model.Snapshot{
		ConfigMap:       map[string]string{"config-backend": "global"},
		ClassParameters: map[string]model.ClassParameters{"edge": {Source: params, Data: map[string]string{"config-backend": "bad", "timeout-server": "1m"}}},
	}
	var q quarantine.Quarantine
	if !q.Add(blame.Culprit{Object: params, Field: "config-backend", Alert: "[ALERT] nope"}, snap) {
		t.Fatal("not held")
	}
	if q.Add(blame.Culprit{Object: model.Ref{Kind: "ConfigMap", Namespace: "ingress", Name: "other"}, Field: "config-backend"}, snap) {
		t.Error("held a key of a ConfigMap the snapshot does not have")
	}
	got, problems := q.Apply(snap, nil)
	if d := got.ClassParameters["edge"].Data; len(d) != 1 || d["timeout-server"] != "1m" || got.ConfigMap["config-backend"] != "global" {
		t.Errorf("served %v and %v", got.ClassParameters, got.ConfigMap)
	}
	if snap.ClassParameters["edge"].Data["config-backend"] != "bad" {
		t.Error("Apply changed the caller's snapshot")
	}
	if len(problems) != 1 || problems[0].Object != params || problems[0].Field != "config-backend" || !strings.Contains(problems[0].Message, "[ALERT] nope") {
		t.Errorf("problems %+v", problems)
	}
	snap.ClassParameters["edge"].Data["config-backend"] = "fixed"
	if got, problems := q.Apply(snap, nil); got.ClassParameters["edge"].Data["config-backend"] != "fixed" || len(problems) != 0 {
		t.Errorf("a changed value must be tried again: %v %v", got.ClassParameters, problems)
	}
}
