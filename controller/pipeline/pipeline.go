// Package pipeline runs one configuration update: snapshot → model → render →
// haproxy driver, choosing between nothing, runtime API commands and a reload,
// and logging each update the way upstream haproxy-ingress does.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/klog/v2"

	"github.com/external-haproxy/kit/controller/blame"
	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/haproxy"
	"github.com/external-haproxy/kit/controller/haproxy/mastercli"
	"github.com/external-haproxy/kit/controller/haproxy/runtime"
	"github.com/external-haproxy/kit/controller/haproxy/validate"
	"github.com/external-haproxy/kit/controller/health"
	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/controller/quarantine"
	"github.com/external-haproxy/kit/controller/render"
	"github.com/external-haproxy/kit/internal/ctxutil"
)

// Build is the pure part shared by the controller and the render command.
func Build(snap *model.Snapshot, opts model.Options, l files.Layout) (*model.Model, files.Set, []model.Problem) {
	m, problems := model.Build(snap, opts)
	return m, render.Render(m, l), problems
}

// Syncer applies snapshots to haproxy, one at a time.
type Syncer struct {
	Driver         *haproxy.Driver
	Layout         files.Layout
	Options        model.Options
	Metrics        *health.Metrics
	ReloadInterval time.Duration
	// Report receives each problem once, when it first appears.
	Report func(model.Problem)

	running    *model.Model // what haproxy runs; nil before the first update
	runningSet files.Set    // its rendered files
	renders    *render.Cache
	lastReload time.Time
	reported   map[string]bool
	id         int
	drains     drainer
	// quarantine holds what haproxy rejected; lastGood is the (filtered)
	// snapshot of the last configuration haproxy accepted, whose versions
	// of held objects are served instead.
	quarantine quarantine.Quarantine
	lastGood   *model.Snapshot
	applied    uint64
}

// Applied counts the updates that changed what haproxy runs, by a reload or
// the runtime API; an Update that leaves it unchanged does not count.
func (s *Syncer) Applied() uint64 { return s.applied }

// Update makes haproxy serve snap. It returns an error when haproxy does not
// run the new configuration; the caller retries. Objects whose configuration
// haproxy rejects are left out (see package quarantine) and the rest is
// applied: each round holds at least one more object, so a burst of bad
// objects costs at most one extra haproxy check each.
func (s *Syncer) Update(ctx context.Context, snap *model.Snapshot) error {
	s.id++
	for {
		filtered, held := s.quarantine.Apply(snap, s.lastGood)
		tried, err := s.apply(ctx, filtered, held)
		if err == nil {
			s.lastGood = filtered
			return nil
		}
		alerts, rejected := rejection(err)
		if !rejected || !s.hold(alerts, filtered, tried) {
			return err
		}
	}
}

// rejection returns haproxy's messages about a configuration it refused:
// those of haproxy -c, or of the master's reload answer (2.7+), which is the
// verdict when there is no local haproxy to check with.
func rejection(err error) (string, bool) {
	var checked *validate.Error
	if errors.As(err, &checked) {
		return checked.Output, true
	}
	var reload *mastercli.ReloadError
	if errors.As(err, &reload) && reload.Output != "" {
		return reload.Output, true
	}
	return "", false
}

// attempt is what one round rendered, for tracing a rejection back.
type attempt struct {
	model *model.Model
	set   files.Set
}

// hold quarantines the objects and keys haproxy's alerts point at; false
// when none could be traced or all are held already.
func (s *Syncer) hold(alerts string, snap *model.Snapshot, tried attempt) bool {
	culprits := blame.Find(alerts, blame.Input{Snapshot: snap, Options: s.Options, Model: tried.model, Set: tried.set, Layout: s.Layout})
	var names []string
	for _, c := range culprits {
		if s.quarantine.Add(c, snap) {
			s.Metrics.RejectedObjects.WithLabelValues(c.Object.Kind).Inc()
			names = append(names, strconv.Quote(strings.TrimSpace(c.Object.String()+" "+c.Field)))
		}
	}
	if len(names) == 0 {
		return false
	}
	klog.Warningf("haproxy update id=%d: haproxy rejected the configuration of %d object(s), leaving them out and checking again: %s", s.id, len(names), strings.Join(names, ", "))
	return true
}

// apply runs one round of Update on a snapshot the quarantine has filtered;
// held are the quarantine's problems, reported with the model's.
func (s *Syncer) apply(ctx context.Context, snap *model.Snapshot, held []model.Problem) (attempt, error) {
	start := time.Now()
	m, problems := model.Build(snap, s.Options)
	parse := time.Since(start)
	s.report(append(problems, held...))

	if s.running == nil {
		// A restarted controller lays the spares out as its predecessor
		// left them, so that unchanged state needs no reload.
		s.running = model.Resume(m, render.ParseSpares(s.Driver.OnDisk(render.SparesPath(s.Layout))))
	}
	s.drains.settle(s.running)
	ch := s.Options.Cache.Diff(s.running, m)
	renderStart := time.Now()
	if s.renders == nil {
		s.renders = render.NewCache()
	}
	set := s.renders.Render(ch.Next, s.Layout)
	renderTime := time.Since(renderStart)
	tried := attempt{ch.Next, set}
	rc := s.runtimeCommands(&ch, set)
	if !ch.Reload && rc.empty() && s.Driver.InSync() {
		s.observe(health.KindNoop, nil, map[string]time.Duration{"parse_ingress": parse})
		klog.V(2).Infof("haproxy update id=%d: nothing changed", s.id)
		return tried, nil
	}
	klog.Infof("starting haproxy update id=%d", s.id)
	if hosts := changedHosts(s.running, ch.Next); len(hosts) > 0 {
		klog.Infof("updating %d host(s): %q", len(hosts), hosts)
	}
	if backends := changedBackends(s.running, ch.Next); len(backends) > 0 {
		klog.Infof("updating %d backend(s): %q", len(backends), backends)
	}
	t := timings{{"parse_ingress", parse}, {"render", renderTime}}

	kind := health.KindReload
	var err error
	if !ch.Reload && s.Driver.InSync() {
		kind = health.KindDynamic
		err = s.drains.dynamic(ctx, s.Driver.Runtime, ch.Slots, func() error { return s.dynamic(ctx, rc, set, &t) })
		if err != nil {
			klog.Warningf("dynamic update failed, reloading instead: %v", err)
			kind = health.KindReload
			// The files already hold the new state; only a reload makes the
			// worker match them.
			s.Driver.Invalidate()
		}
	}
	if kind == health.KindReload {
		if len(ch.Reasons) > 0 {
			klog.V(1).Infof("reload needed: %s", strings.Join(ch.Reasons, ", "))
		}
		var reloaded bool
		reloaded, err = s.drains.reload(ch.Next, func() (bool, error) {
			s.beforeReload(ctx, ch.Before)
			if ch.Next.Global.LoadServerState {
				s.saveServerState(ctx, ch.Next)
				// A later start of haproxy would apply these states to
				// slots that dynamic updates moved since.
				defer s.writeServerState([]byte(runtime.EmptyServersState))
			}
			return s.reload(ctx, set, &t)
		}, s.Driver.InSync)
		if err == nil && !reloaded {
			kind = health.KindNoop // haproxy already ran these files (restarted controller)
			klog.Infof("haproxy already runs this configuration, no reload needed")
		}
	}
	t = append(t, timing{"total", time.Since(start)})
	s.observe(kind, err, t.stages())
	if err != nil {
		klog.Errorf("haproxy update id=%d failed: %v", s.id, err)
		return tried, err
	}
	s.running, s.runningSet = ch.Next, set
	if kind != health.KindNoop {
		s.applied++
	}
	klog.Infof("finish haproxy update id=%d: %s", s.id, t)
	return tried, nil
}

// runtimeChange is what a dynamic update sends to the running worker.
type runtimeChange struct {
	cmds []string     // independent commands, in order
	maps []files.File // routing maps, each replaced as a whole
}

func (c runtimeChange) empty() bool { return len(c.cmds) == 0 && len(c.maps) == 0 }

// dynamic writes the files, without a reload, so that a haproxy that
// restarts loads the new state, while it applies the same change to the
// running worker through the runtime API.
func (s *Syncer) dynamic(ctx context.Context, rc runtimeChange, set files.Set, t *timings) error {
	start := time.Now()
	write, err := s.Driver.Persist(set)
	if err != nil {
		return err
	}
	written := make(chan error, 1)
	var took time.Duration
	go func() {
		err := write()
		took = time.Since(start)
		written <- err
	}()
	err = s.runtime(ctx, rc, t)
	werr := <-written
	*t = append(*t, timing{"write_config", took})
	if werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	// Only now may a restarted controller trust the worker (see Persist).
	s.Driver.Confirm()
	klog.Infof("haproxy updated without reload: %d runtime command(s), %d map(s) replaced", len(rc.cmds), len(rc.maps))
	return nil
}

// runtime sends rc to the running worker.
func (s *Syncer) runtime(ctx context.Context, rc runtimeChange, t *timings) error {
	start := time.Now()
	if _, err := s.sendAll(ctx, rc.cmds); err != nil {
		return err
	}
	// Every changed map is prepared as a new version first and committed
	// only then, back to back: each map switches atomically, and a path
	// moving between keys is never served twice or missing for longer than
	// the commits take.
	var prepares, adds, commits []string
	for _, m := range rc.maps {
		prepares = append(prepares, runtime.PrepareMap(m.Path))
	}
	answers, err := s.sendAll(ctx, prepares)
	if err != nil {
		return err
	}
	for i, m := range rc.maps {
		v, err := runtime.ParseMapVersion(answers[i])
		if err != nil {
			return fmt.Errorf("prepare map %s: %w", m.Path, err)
		}
		adds = append(adds, runtime.AddMap(v, m.Path, m.Data)...)
		commits = append(commits, runtime.CommitMap(v, m.Path))
	}
	if _, err := s.sendAll(ctx, adds); err != nil {
		return err
	}
	if _, err := s.sendAll(ctx, commits); err != nil {
		return err
	}
	*t = append(*t, timing{"update_dynamic", time.Since(start)})
	return nil
}

// sendAll runs cmds on the current worker in order, each run of
// single-line commands on one connection (RuntimeBatch), and checks every
// answer.
func (s *Syncer) sendAll(ctx context.Context, cmds []string) ([]string, error) {
	out := make([]string, 0, len(cmds))
	for len(cmds) > 0 {
		n := 0
		for n < len(cmds) && mastercli.Batchable(cmds[n]) {
			n++
		}
		if n < 2 {
			a, err := s.send(ctx, cmds[0])
			if err != nil {
				return nil, err
			}
			out, cmds = append(out, a), cmds[1:]
			continue
		}
		start := time.Now()
		answers, err := s.Driver.RuntimeBatch(ctx, cmds[:n])
		s.Metrics.MasterCLI.WithLabelValues(strings.Fields(cmds[0])[0]).Observe(time.Since(start).Seconds())
		if err != nil {
			return nil, fmt.Errorf("%d commands from %q: %w", n, cmds[0], err)
		}
		for i, a := range answers {
			if !runtime.OK(a) {
				return nil, fmt.Errorf("%q: haproxy answered %q", cmds[i], strings.TrimSpace(a))
			}
		}
		out, cmds = append(out, answers...), cmds[n:]
	}
	return out, nil
}

// send runs one runtime API command on the current worker and checks its
// answer.
func (s *Syncer) send(ctx context.Context, cmd string) (string, error) {
	// Only the first line in errors: payloads carry private keys and maps.
	name, _, _ := strings.Cut(cmd, "\n")
	start := time.Now()
	out, err := s.Driver.Runtime(ctx, cmd)
	s.Metrics.MasterCLI.WithLabelValues(strings.Fields(cmd)[0]).Observe(time.Since(start).Seconds())
	if err != nil {
		return "", fmt.Errorf("%q: %w", name, err)
	}
	if !runtime.OK(out) {
		return "", fmt.Errorf("%q: haproxy answered %q", name, strings.TrimSpace(out))
	}
	return out, nil
}

// runtimeCommands is the runtime part of a dynamic change: server slots,
// rotated certificates (each swapped in a transaction haproxy commits
// atomically), routing maps and blue-green group maps. A route change that the maps cannot take at
// run time turns ch into a reload.
func (s *Syncer) runtimeCommands(ch *model.Changes, set files.Set) runtimeChange {
	if ch.Reload {
		return runtimeChange{}
	}
	rc := runtimeChange{}
	for _, op := range ch.Slots {
		rc.cmds = append(rc.cmds, runtime.SetServer(op))
	}
	for _, c := range ch.CertUpdates {
		rc.cmds = append(rc.cmds, runtime.ReplaceCert(render.CertPath(s.Layout, c.Name), c.PEM)...)
	}
	if ch.Routes {
		maps, ok := render.MapChanges(s.runningSet, set, s.Layout)
		if !ok {
			ch.Reload, ch.Reasons = true, []string{"regex routes changed"}
			return runtimeChange{}
		}
		rc.maps = maps
	}
	if ch.Groups {
		rc.maps = append(rc.maps, render.BlueGreenMapChanges(s.runningSet, set, s.Layout)...)
	}
	return rc
}

// beforeReload gives the running worker the slot changes it can take, so
// that the connections it still serves after the reload reach the new
// endpoints. The worker then differs from the files: the loaded marker goes
// first. A failure is only logged: the reload brings everything anyway.
func (s *Syncer) beforeReload(ctx context.Context, ops []model.SlotOp) {
	if len(ops) == 0 || !s.Driver.InSync() {
		return
	}
	s.Driver.Invalidate()
	for _, op := range ops {
		if _, err := s.send(ctx, runtime.SetServer(op)); err != nil {
			klog.Warningf("endpoint changes before the reload: %v", err)
			return
		}
	}
	klog.V(1).Infof("%d endpoint change(s) sent to the running worker before the reload", len(ops))
}

// saveServerState leaves for the reload to next the states of the running
// worker's servers that next keeps in place (load-server-state); without
// them haproxy starts every server up, even one its checks found down.
func (s *Syncer) saveServerState(ctx context.Context, next *model.Model) {
	state := []byte(runtime.EmptyServersState)
	// Not send: the answer is a dump, which KeepServersState checks.
	dump, err := s.Driver.Runtime(ctx, runtime.ShowServersState)
	if err == nil {
		var kept []byte
		if kept, err = runtime.KeepServersState(dump, next.KeepsServerState()); err == nil {
			state = kept
		}
	}
	if err != nil {
		klog.Warningf("load-server-state: reading the servers' state: %v; the reload starts them afresh", err)
	}
	s.writeServerState(state)
}

func (s *Syncer) writeServerState(state []byte) {
	if err := s.Driver.WriteServerState(state); err != nil {
		klog.Warningf("load-server-state: %v", err)
	}
}

func (s *Syncer) reload(ctx context.Context, set files.Set, t *timings) (bool, error) {
	if wait := time.Until(s.lastReload.Add(s.ReloadInterval)); wait > 0 {
		klog.V(1).Infof("waiting %v for --reload-interval", wait.Round(time.Millisecond))
		if err := ctxutil.Sleep(ctx, wait); err != nil {
			return false, err
		}
	}
	res, err := s.Driver.Update(ctx, set)
	if len(res.Changed) > 0 {
		klog.Infof("updated %s", describeFiles(res.Changed, s.Layout))
	}
	*t = append(*t, timing{"validate", res.Timings.Validate}, timing{"write_config", res.Timings.WriteConfig},
		timing{"reload_haproxy", res.Timings.ReloadHAProxy})
	if res.Reloaded {
		klog.Infof("haproxy successfully reloaded (%s): master %d reload %d worker %d in %v", s.Driver.Mode(),
			res.Reload.MasterPID, res.Reload.Reloads, res.Reload.WorkerPID, res.Reload.Duration.Round(time.Millisecond))
		s.lastReload = time.Now()
		s.Metrics.MasterCLI.WithLabelValues("reload").Observe(res.Reload.Duration.Seconds())
	}
	return res.Reloaded, err
}

// report passes on problems not reported yet; a problem that went away and
// comes back is reported again.
func (s *Syncer) report(problems []model.Problem) {
	now := make(map[string]bool, len(problems))
	for _, p := range problems {
		key := p.String()
		now[key] = true
		if !s.reported[key] && s.Report != nil {
			s.Report(p)
		}
	}
	s.reported = now
}

func (s *Syncer) observe(kind string, err error, stages map[string]time.Duration) {
	result := "success"
	s.Metrics.ReloadSuccess.Set(1)
	if err != nil {
		result = "failure"
		s.Metrics.ReloadSuccess.Set(0)
	}
	s.Metrics.Updates.WithLabelValues(kind, result).Inc()
	for stage, d := range stages {
		s.Metrics.StageSeconds.WithLabelValues(stage).Observe(d.Seconds())
	}
}

// describeFiles says "main cfg and N other file(s): [...]" in upstream's spirit.
func describeFiles(paths []string, l files.Layout) string {
	var cfg, other []string
	for _, p := range paths {
		rel, err := filepath.Rel(l.Etc, p)
		if err != nil || strings.HasPrefix(rel, "..") {
			rel, _ = filepath.Rel(filepath.Dir(l.Lib), p)
		}
		if filepath.Dir(p) == l.Etc {
			cfg = append(cfg, rel)
		} else {
			other = append(other, rel)
		}
	}
	main := "no cfg"
	if len(cfg) > 0 {
		main = fmt.Sprintf("main cfg %v", cfg)
	}
	return fmt.Sprintf("%s and %d map/cert file(s): %v", main, len(other), other)
}

// changedHosts lists the hosts whose routes differ between two models.
func changedHosts(old, cur *model.Model) []string {
	byHost := func(m *model.Model) map[string][]model.Route {
		out := map[string][]model.Route{}
		if m != nil {
			for _, r := range m.Routes {
				r.Source = model.Ref{}
				out[r.Host] = append(out[r.Host], r)
			}
		}
		return out
	}
	return changedKeys(byHost(old), byHost(cur), func(a, b []model.Route) bool { return reflect.DeepEqual(a, b) }, "<any host>")
}

// changedBackends lists the backends whose servers differ between two models.
func changedBackends(old, cur *model.Model) []string {
	byName := func(m *model.Model) map[string][]model.Server {
		out := map[string][]model.Server{}
		if m != nil {
			for _, b := range m.Backends {
				out[b.Name] = b.Servers
			}
		}
		return out
	}
	return changedKeys(byName(old), byName(cur), func(a, b []model.Server) bool { return slices.Equal(a, b) }, "")
}

func changedKeys[V any](old, cur map[string]V, equal func(a, b V) bool, emptyName string) []string {
	var out []string
	for k, v := range cur {
		if o, ok := old[k]; !ok || !equal(o, v) {
			out = append(out, k)
		}
	}
	for k := range old {
		if _, ok := cur[k]; !ok {
			out = append(out, k)
		}
	}
	for i, k := range out {
		if k == "" {
			out[i] = emptyName
		}
	}
	slices.Sort(out)
	return out
}

type timing struct {
	name string
	d    time.Duration
}

type timings []timing

func (t timings) String() string {
	parts := make([]string, 0, len(t))
	for _, x := range t {
		if x.d > 0 || x.name == "total" {
			parts = append(parts, fmt.Sprintf("%s=%v", x.name, x.d.Round(10*time.Microsecond)))
		}
	}
	return strings.Join(parts, " ")
}

func (t timings) stages() map[string]time.Duration {
	out := make(map[string]time.Duration, len(t))
	for _, x := range t {
		out[x.name] = x.d
	}
	return out
}
