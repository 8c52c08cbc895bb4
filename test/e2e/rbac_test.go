package e2e

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/external-haproxy/kit/test/e2eenv"
	"github.com/external-haproxy/kit/test/poll"
)

// What a case expects once the controller runs without one rule.
const (
	rbacAllWorks     = "all works"          // control: nothing removed
	rbacNotReady     = "never ready"        // an informer cannot list: no update at all
	rbacNoStatus     = "no status"          // routing works, Ingress status stays empty
	rbacNoEvent      = "no event"           // routing works, the Warning Event is missing
	rbacNoEventPatch = "no repeated events" // the first Event is created, a repeat is not counted
)

// withoutRule drops the rules naming resource.
func withoutRule(resource string) func([]rbacv1.PolicyRule) []rbacv1.PolicyRule {
	return func(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
		return slices.DeleteFunc(rules, func(r rbacv1.PolicyRule) bool { return slices.Contains(r.Resources, resource) })
	}
}

// withoutVerb drops one verb from the rules naming resource.
func withoutVerb(resource, verb string) func([]rbacv1.PolicyRule) []rbacv1.PolicyRule {
	return func(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
		for i := range rules {
			if slices.Contains(rules[i].Resources, resource) {
				rules[i].Verbs = slices.DeleteFunc(rules[i].Verbs, func(v string) bool { return v == verb })
			}
		}
		return rules
	}
}

// Every rule of base/rbac.yaml is needed: with one removed, the controller
// (running with the base's ServiceAccount token only) visibly fails, and its
// log names the forbidden resource. Each case runs its own control plane and
// pod: the pod starts with the full RBAC, the controller container is
// stopped, the rule is removed through the admin client, and the controller
// starts again, as after a rollout.
func TestRBACEveryRuleIsUsed(t *testing.T) {
	forbidden := func(verb, resource string) string {
		return `cannot ` + verb + ` resource .?"` + regexp.QuoteMeta(resource) + `.?"`
	}
	// Short case names: t.TempDir holds the pod's unix sockets (108 bytes max).
	cases := []struct {
		name   string
		role   string // ClusterRole or Role
		edit   func([]rbacv1.PolicyRule) []rbacv1.PolicyRule
		expect string
		logs   []string // regexps the controller log must match
	}{
		{"control", "", nil, rbacAllWorks, nil},
		{"services", "ClusterRole", withoutRule("services"), rbacNotReady,
			[]string{forbidden("list", "services"), forbidden("list", "secrets"), forbidden("list", "pods")}},
		{"endpointslices", "ClusterRole", withoutRule("endpointslices"), rbacNotReady,
			[]string{forbidden("list", "endpointslices")}},
		{"ingresses", "ClusterRole", withoutRule("ingressclasses"), rbacNotReady,
			[]string{forbidden("list", "ingresses"), forbidden("list", "ingressclasses")}},
		{"status", "ClusterRole", withoutRule("ingresses/status"), rbacNoStatus,
			[]string{forbidden("update", "ingresses/status")}},
		{"events", "ClusterRole", withoutRule("events"), rbacNoEvent,
			[]string{forbidden("create", "events")}},
		{"eventpatch", "ClusterRole", withoutVerb("events", "patch"), rbacNoEventPatch, nil},
		{"configmaps", "Role", withoutRule("configmaps"), rbacNotReady,
			[]string{forbidden("list", "configmaps")}},
		{"leases", "Role", withoutRule("leases"), rbacNoStatus,
			[]string{forbidden("get", "leases")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runRBACCase(t, tc.role, tc.edit, tc.expect, tc.logs)
		})
	}
}

// brokenIngress routes broken.example.com to a Service that does not exist:
// the controller reports it with a Warning Event on the Ingress.
const brokenSvc = "nosuch"

func setBackendService(ctx context.Context, t *testing.T, env *e2eenv.Env, name, host, svc string) {
	t.Helper()
	cur, err := env.Admin.NetworkingV1().Ingresses("app").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	upd := e2eenv.IngressFor("app", name, host, svc)
	upd.ResourceVersion = cur.ResourceVersion
	if _, err := env.Admin.NetworkingV1().Ingresses("app").Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func eventCount(ctx context.Context, env *e2eenv.Env, name string) int32 {
	evs, err := env.WarningEvents(ctx, "app", "Ingress", name)
	if err != nil {
		return -1
	}
	var n int32
	for _, ev := range evs {
		n += max(ev.Count, 1)
	}
	return n
}

// holdsFor checks cond every 100 ms for d and reports the first time it is false.
func holdsFor(d time.Duration, cond func() (bool, string)) (bool, string) {
	var why string
	broke := poll.Every(context.Background(), d, 100*time.Millisecond, func() (bool, error) {
		ok, w := cond()
		why = w
		return !ok, nil
	}, nil) == nil
	if broke {
		return false, why
	}
	return true, ""
}

// eventually checks cond every 50 ms until it holds or d passed.
func eventually(d time.Duration, cond func() bool) bool {
	return poll.Every(context.Background(), d, 50*time.Millisecond, func() (bool, error) { return cond(), nil }, nil) == nil
}

const rbacBrokenWait = 10 * time.Second // how long "broken" must hold

func runRBACCase(t *testing.T, role string, edit func([]rbacv1.PolicyRule) []rbacv1.PolicyRule, expect string, logs []string) {
	env, ctx, _ := servingEcho1(t)

	// The rules are edited, then the controller restarts gracefully
	// (SIGTERM, the kubelet starts it again) and starts with them.
	switch role {
	case "ClusterRole":
		cr, err := env.Admin.RbacV1().ClusterRoles().Get(ctx, e2eenv.Workload, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n := len(cr.Rules)
		cr.Rules = edit(cr.Rules)
		if _, err := env.Admin.RbacV1().ClusterRoles().Update(ctx, cr, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Logf("ClusterRole %s: %d rules -> %d: %v", cr.Name, n, len(cr.Rules), cr.Rules)
	case "Role":
		r, err := env.Admin.RbacV1().Roles(e2eenv.Namespace).Get(ctx, e2eenv.Workload, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n := len(r.Rules)
		r.Rules = edit(r.Rules)
		if _, err := env.Admin.RbacV1().Roles(e2eenv.Namespace).Update(ctx, r, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Logf("Role %s: %d rules -> %d: %v", r.Name, n, len(r.Rules), r.Rules)
	}
	logStart := len(env.Log(e2eenv.Controller))
	restarts, err := env.Stop(ctx, e2eenv.Controller)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.WaitRestarted(ctx, e2eenv.Controller, restarts, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := env.CreateIngress(ctx, "app", "new", "new.example.com", "echo"); err != nil {
		t.Fatal(err)
	}
	if err := env.CreateIngress(ctx, "app", "broken", "broken.example.com", brokenSvc); err != nil {
		t.Fatal(err)
	}
	newLog := func() string { return env.Log(e2eenv.Controller)[logStart:] }
	for _, l := range logs {
		re := regexp.MustCompile(`[^\n]*` + l + `[^\n]*`)
		if !eventually(15*time.Second, func() bool { return re.MatchString(newLog()) }) {
			t.Fatalf("controller log does not match %q:\n%s", l, newLog())
		}
		t.Logf("controller: %s", strings.TrimSpace(re.FindString(newLog())))
	}

	if expect == rbacNotReady {
		// The informer caches never sync: no update, haproxy keeps the last
		// configuration it was given.
		ok, why := holdsFor(rbacBrokenWait, func() (bool, string) {
			if env.Ready() {
				return false, "controller became ready"
			}
			if r, err := env.Get("new.example.com", "/", false); err == nil && r.Status != 404 {
				return false, "new.example.com answered " + r.Body
			}
			return true, ""
		})
		if !ok {
			t.Fatalf("without the rule: %s\ncontroller:\n%s", why, newLog())
		}
		if err := env.Served("echo.example.com", 5*time.Second, "echo-1"); err != nil {
			t.Fatalf("haproxy stopped serving the last configuration: %v", err)
		}
		return
	}

	if err := env.WaitReady(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := env.Served("new.example.com", 30*time.Second, "echo-1"); err != nil {
		t.Fatal(err)
	}
	statusIPs := func() []string { ips, _ := env.IngressStatusIPs(ctx, "app", "new"); return ips }
	switch expect {
	case rbacAllWorks:
		if !eventually(30*time.Second, func() bool { return slices.Equal(statusIPs(), []string{env.NodeIP}) }) {
			t.Errorf("status of Ingress new: %v, want [%s] (the node's, hostNetwork)", statusIPs(), env.NodeIP)
		}
		if !eventually(30*time.Second, func() bool { return eventCount(ctx, env, "broken") == 1 }) {
			t.Errorf("Warning Events on Ingress broken: %d, want 1", eventCount(ctx, env, "broken"))
		}
	case rbacNoStatus:
		if ok, why := holdsFor(rbacBrokenWait, func() (bool, string) {
			ips := statusIPs()
			return len(ips) == 0, strings.Join(ips, ",")
		}); !ok {
			t.Errorf("Ingress new got a status without the rule: %s", why)
		}
	case rbacNoEvent:
		if ok, _ := holdsFor(rbacBrokenWait, func() (bool, string) { return eventCount(ctx, env, "broken") == 0, "" }); !ok {
			t.Errorf("a Warning Event was recorded without the rule")
		}
	case rbacNoEventPatch:
		if !eventually(30*time.Second, func() bool { return eventCount(ctx, env, "broken") == 1 }) {
			t.Fatalf("Warning Events on Ingress broken: %d, want 1", eventCount(ctx, env, "broken"))
		}
	}
	if expect != rbacAllWorks && expect != rbacNoEventPatch {
		return
	}
	// The same problem again (fixed, then broken again) is the same Event,
	// counted by a patch.
	setBackendService(ctx, t, env, "broken", "broken.example.com", "echo")
	if err := env.Served("broken.example.com", 30*time.Second, "echo-1"); err != nil {
		t.Fatal(err)
	}
	setBackendService(ctx, t, env, "broken", "broken.example.com", brokenSvc)
	if _, _, err := env.Eventually(30*time.Second, func() (e2eenv.Response, error) { return env.Get("broken.example.com", "/", false) },
		func(r e2eenv.Response) bool { return r.Status != 200 }); err != nil {
		t.Fatal(err)
	}
	if expect == rbacAllWorks {
		if !eventually(30*time.Second, func() bool { return eventCount(ctx, env, "broken") == 2 }) {
			t.Errorf("the repeated problem: event count %d, want 2", eventCount(ctx, env, "broken"))
		}
		t.Logf("full RBAC: status of Ingress new %v, Warning Event on Ingress broken counted %d times", statusIPs(), eventCount(ctx, env, "broken"))
		return
	}
	re := regexp.MustCompile(`[^\n]*` + forbiddenPatch + `[^\n]*`)
	if !eventually(15*time.Second, func() bool { return re.MatchString(newLog()) }) {
		t.Fatalf("no forbidden patch of the repeated Event in the log:\n%s", newLog())
	}
	t.Logf("controller: %s", strings.TrimSpace(re.FindString(newLog())))
	if ok, _ := holdsFor(rbacBrokenWait/2, func() (bool, string) { return eventCount(ctx, env, "broken") == 1, "" }); !ok {
		t.Errorf("the repeated Event was counted without the patch verb")
	}
}

const forbiddenPatch = `cannot patch resource .?"events`
