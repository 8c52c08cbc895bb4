package model

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestBlueGreenWeights(t *testing.T) {
	blue, green, other := map[string]string{"v": "blue"}, map[string]string{"v": "green"}, map[string]string{"v": "red"}
	groups := []BlueGreenGroup{{"v", "blue", 1}, {"v", "green", 4}}
	for _, c := range []struct {
		name    string
		bg      BlueGreen
		pods    []map[string]string
		initial int
		want    []int
	}{
		{"deploy: shares 1:4 whatever the sizes", BlueGreen{Groups: groups}, []map[string]string{blue, green, green}, 1, []int{1, 2, 2}},
		{"deploy: the smallest share gets initial-weight", BlueGreen{Groups: groups}, []map[string]string{blue, green, green}, 100, []int{100, 200, 200}},
		{"deploy: capped at haproxy's 256", BlueGreen{Groups: []BlueGreenGroup{{"v", "blue", 1}, {"v", "green", 100}}},
			[]map[string]string{blue, blue, blue, blue, green}, 10, []int{1, 1, 1, 1, 256}},
		{"pod: every pod the group's weight", BlueGreen{Groups: groups, PerPod: true}, []map[string]string{blue, green, green}, 100, []int{1, 4, 4}},
		{"no group, no pod, weight 0: no requests", BlueGreen{Groups: []BlueGreenGroup{{"v", "blue", 0}, {"v", "green", 1}}},
			[]map[string]string{other, nil, blue, green}, 1, []int{0, 0, 0, 1}},
		{"the last matching group wins", BlueGreen{Groups: []BlueGreenGroup{{"v", "green", 1}, {"v", "green", 3}}, PerPod: true},
			[]map[string]string{green}, 1, []int{3}},
	} {
		if got := c.bg.weights(c.pods, c.initial); !slices.Equal(got, c.want) {
			t.Errorf("%s: weights %v, want %v", c.name, got, c.want)
		}
	}
}

func TestBlueGreenGroupsParse(t *testing.T) {
	got, ok := parseBlueGreenGroups(" app.kubernetes.io/version=v1=1, app.kubernetes.io/version=v2=256")
	if want := []BlueGreenGroup{{"app.kubernetes.io/version", "v1", 1}, {"app.kubernetes.io/version", "v2", 256}}; !ok || !slices.Equal(got, want) {
		t.Errorf("parsed %v %v, want %v", got, ok, want)
	}
	for _, bad := range []string{"v=blue", "v=blue=1=2", "v=blue=257", "v=blue=-1", "v=blue=x", "v w=blue=1", "v=bl ue=1", "v=blue=1\nbackend x",
		"v=a=1,v=b=1,v=c=1,v=d=1,v=e=1,v=f=1,v=g=1,v=h=1,v=i=1,v=j=1,v=k=1,v=l=1,v=m=1,v=n=1,v=o=1,v=p=1,v=q=1"} {
		if _, ok := parseBlueGreenGroups(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

// blueGreenSnapshot has two endpoints of pods p1 and p2 with the given
// version labels, under blue-green-balance v=blue=1,v=green=3 in pod mode;
// a third endpoint names a pod of another namespace, never looked up.
func blueGreenSnapshot(v1, v2 string) *Snapshot {
	s := endpointsSnapshot("10.0.0.1", "10.0.0.2", "10.0.0.3")
	s.Ingresses[0].Annotations = map[string]string{"haproxy-ingress.github.io/blue-green-balance": "v=blue=1,v=green=3",
		"haproxy-ingress.github.io/blue-green-mode": "pod"}
	eps := s.EndpointSlices[0].Endpoints
	eps[0].TargetRef = &corev1.ObjectReference{Kind: "Pod", Name: "p1"}
	eps[1].TargetRef = &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "p2"}
	eps[2].TargetRef = &corev1.ObjectReference{Kind: "Pod", Namespace: "other", Name: "p1"}
	for name, v := range map[string]string{"p1": v1, "p2": v2} {
		s.Pods = append(s.Pods, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{"v": v}}},
			&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: name, Labels: map[string]string{"v": "green"}}})
	}
	return s
}

// TestBlueGreenBuildAndDiff: the endpoints get their pods' weights, and a
// relabelled pod changes its slot's weight through the runtime API.
func TestBlueGreenBuildAndDiff(t *testing.T) {
	running, problems := Build(blueGreenSnapshot("blue", "green"), Options{})
	noObjectProblems(t, problems)
	be := running.Backends[len(running.Backends)-1]
	var got []int
	for _, s := range be.Servers[:3] {
		got = append(got, s.EffectiveWeight(&be.Policy))
	}
	if !slices.Equal(got, []int{1, 3, 0}) {
		t.Errorf("weights %v, want 1 (blue), 3 (green), 0 (pod of another namespace: no labels)", got)
	}
	c := Diff(running, must(Build(blueGreenSnapshot("green", "green"), Options{})))
	want := []SlotOp{{Backend: be.Name, Server: be.Servers[0].Name, Action: SlotWeight, Weight: 3}}
	if c.Reload || !slices.Equal(c.Slots, want) {
		t.Errorf("relabelled pod: reload %v %q, slot ops %+v; want %+v", c.Reload, c.Reasons, c.Slots, want)
	}
}

func must(m *Model, _ []Problem) *Model { return m }

// TestDrainSupportKeepsEndpoints: with drain-support, endpoints that are
// not ready or terminating are servers at weight 0, whatever blue-green
// gives their pods; without it they are left out.
func TestDrainSupportKeepsEndpoints(t *testing.T) {
	for _, drain := range []bool{false, true} {
		s := blueGreenSnapshot("green", "green")
		s.ConfigMap = map[string]string{"drain-support": strconv.FormatBool(drain)}
		no, yes := false, true
		eps := s.EndpointSlices[0].Endpoints
		eps[1].Conditions.Ready = &no
		eps[2].Conditions.Terminating = &yes
		m, _ := Build(s, Options{})
		be := m.Backends[len(m.Backends)-1]
		var got []string
		for _, srv := range be.Servers {
			if srv.Enabled {
				got = append(got, srv.Addr+"="+strconv.Itoa(srv.EffectiveWeight(&be.Policy)))
			}
		}
		want := []string{"10.0.0.1=3"}
		if drain {
			want = append(want, "10.0.0.2=0", "10.0.0.3=0")
		}
		if !slices.Equal(got, want) {
			t.Errorf("drain-support=%v: servers %v, want %v", drain, got, want)
		}
	}
}

func TestBlueGreenSelectorParse(t *testing.T) {
	if got, ok := parseSelector("X-Server:app.kubernetes.io/version"); !ok || got != (BlueGreenSelector{"X-Server", "app.kubernetes.io/version"}) {
		t.Errorf("parsed %v %v", got, ok)
	}
	for _, bad := range []string{"X-Server", ":v", "X-Server:", "-x:v", "x-:v", "X Server:v", "X,Y:v", "x(y):v", "x):v", "X:v w", "X:v\nbackend b",
		"x" + strings.Repeat("y", 63) + ":v"} {
		if _, ok := parseSelector(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestBlueGreenSelectorGroups: every endpoint's slot gets its pod's value
// of the selector's label; a relabelled pod changes it without a reload;
// a cookie reading another label than the header is dropped with a
// warning on the key.
func TestBlueGreenSelectorGroups(t *testing.T) {
	snap := func(v1, v2 string, cookie string) *Snapshot {
		s := blueGreenSnapshot(v1, v2)
		s.Ingresses[0].Annotations = map[string]string{"haproxy-ingress.github.io/blue-green-header": "X-Version:v",
			"haproxy-ingress.github.io/blue-green-cookie": cookie}
		return s
	}
	running, problems := Build(snap("blue", "green", "version:v"), Options{})
	noObjectProblems(t, problems)
	be := running.Backends[len(running.Backends)-1]
	var got []string
	for _, s := range be.Servers[:3] {
		got = append(got, s.Group)
	}
	if !slices.Equal(got, []string{"blue", "green", ""}) || be.Policy.BlueGreen.Cookie.Name != "version" {
		t.Errorf("groups %q cookie %+v, want blue, green, none (pod of another namespace) and the cookie", got, be.Policy.BlueGreen.Cookie)
	}
	c := Diff(running, must(Build(snap("green", "green", "version:v"), Options{})))
	if c.Reload || !c.Groups || c.Next.Backends[len(c.Next.Backends)-1].Servers[0].Group != "green" {
		t.Errorf("relabelled pod: reload %v %q, groups changed %v", c.Reload, c.Reasons, c.Groups)
	}
	m, problems := Build(snap("blue", "green", "version:other"), Options{})
	if be := m.Backends[len(m.Backends)-1]; be.Policy.BlueGreen.Cookie != (BlueGreenSelector{}) || be.Servers[0].Group != "blue" {
		t.Errorf("cookie of another label kept: %+v", be.Policy.BlueGreen)
	}
	if !slices.ContainsFunc(problems, func(p Problem) bool {
		return strings.HasSuffix(p.Field, "haproxy-ingress.github.io/blue-green-cookie") && strings.Contains(p.Message, `differs from blue-green-header's "v"`)
	}) {
		t.Errorf("no problem on the cookie of another label: %v", problems)
	}
}

// noObjectProblems fails on problems other than the controller options'
// (the tests' snapshots have no default certificate).
func noObjectProblems(t *testing.T, problems []Problem) {
	t.Helper()
	for _, p := range problems {
		if p.Object.Kind != "Options" {
			t.Errorf("problem: %s", p)
		}
	}
}
