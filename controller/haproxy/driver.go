// Package haproxy is the only part of the controller that does I/O towards
// haproxy: it writes file sets, validates them, reloads haproxy through its
// master CLI and confirms the reload.
package haproxy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/haproxy/filestore"
	"github.com/external-haproxy/kit/controller/haproxy/mastercli"
	"github.com/external-haproxy/kit/controller/haproxy/validate"
)

// Options configure a Driver.
type Options struct {
	Layout files.Layout
	// MasterSocket defaults to Layout.MasterSocket().
	MasterSocket string
	// Binary is the haproxy used for "haproxy -c" before a set goes live;
	// empty disables validation (external mode without a local haproxy).
	Binary string
	// ConnectionTimeout bounds each socket exchange and a reload confirmation.
	ConnectionTimeout time.Duration
	// Mode names the deployment in logs: "external" (default) or "embedded".
	Mode string
	// Validate is when haproxy -c runs (--validate-config): ValidateAuto
	// (default) only after haproxy refused a reload, for its messages;
	// ValidateAlways before every reload; ValidateNever not at all.
	Validate Validation
}

// Validation says when a set is checked with haproxy -c.
type Validation string

const (
	// ValidateAuto reloads without a check first: a config haproxy cannot
	// parse leaves the old worker serving (2.6: the master's failed counter
	// rises and the worker stays; 2.7+: it answers Success=0 with its
	// messages). On 2.6, whose answer has no messages, haproxy -c then runs
	// on the refused set, off the serving path, to say what was wrong.
	ValidateAuto Validation = "auto"
	// ValidateAlways runs haproxy -c before every reload.
	ValidateAlways Validation = "always"
	// ValidateNever never runs haproxy -c.
	ValidateNever Validation = "never"
)

// Driver applies file sets to a running haproxy. Its methods are safe for
// concurrent use; updates are serialized.
type Driver struct {
	opts    Options
	store   *filestore.Store
	checker *validate.Checker
	master  *mastercli.Client

	mu sync.Mutex
	// lastGood is the set haproxy last loaded successfully; nil until the
	// first Update reads it from disk (the init placeholder, or the previous
	// controller's files).
	lastGood files.Set
	// inSync: haproxy is known to run the files on disk. False at start (a
	// previous controller may have written without reloading) and after a
	// failed update, so the next Update reloads even if the disk matches.
	inSync bool
	// persisted is the set Persist wrote whose runtime commands Confirm has
	// not confirmed yet.
	persisted files.Set
}

// New returns a driver; it does no I/O.
func New(opts Options) *Driver {
	if opts.MasterSocket == "" {
		opts.MasterSocket = opts.Layout.MasterSocket()
	}
	if opts.Mode == "" {
		opts.Mode = "external"
	}
	if opts.Validate == "" {
		opts.Validate = ValidateAuto
	}
	d := &Driver{
		opts:   opts,
		store:  filestore.New(opts.Layout),
		master: mastercli.New(opts.MasterSocket, opts.ConnectionTimeout),
	}
	if opts.Binary != "" && opts.Validate != ValidateNever {
		d.checker = &validate.Checker{Binary: opts.Binary, Layout: opts.Layout}
	}
	return d
}

// Mode is "external" or "embedded", for logs.
func (d *Driver) Mode() string { return d.opts.Mode }

// Master is the master CLI client, for show proc and WaitUp.
func (d *Driver) Master() *mastercli.Client { return d.master }

// Runtime sends a runtime API command to the current worker, always through
// the master ("@1 cmd"): right after a reload the old worker may still accept
// on the stats socket it shares with the new one, and a change sent there
// would be lost with it.
func (d *Driver) Runtime(ctx context.Context, cmd string) (string, error) {
	return d.master.Worker(ctx, cmd)
}

// RuntimeBatch sends single-line runtime API commands to the current
// worker, as Runtime does, on one connection; an answer per command.
func (d *Driver) RuntimeBatch(ctx context.Context, cmds []string) ([]string, error) {
	return d.master.WorkerBatch(ctx, cmds)
}

// Result describes one Update.
type Result struct {
	Changed  []string // files written or removed
	Reloaded bool
	Reload   mastercli.ReloadResult
	Timings  Timings
}

// Timings is where an Update spent its time.
type Timings struct {
	Validate      time.Duration
	WriteConfig   time.Duration
	ReloadHAProxy time.Duration // from waiting for the master to a confirmed reload
}

// ReloadError is a set that passed validation (if any) but that haproxy did
// not confirm loading. The last good set is back on disk unless RestoreErr
// says otherwise, so a haproxy restart comes up on the old config. Retrying
// is the caller's decision; rejected configs are *validate.Error instead.
type ReloadError struct {
	Err        error
	RestoreErr error
}

func (e *ReloadError) Error() string {
	if e.RestoreErr != nil {
		return fmt.Sprintf("%v; restoring the last good files failed: %v", e.Err, e.RestoreErr)
	}
	return fmt.Sprintf("%v; last good files restored", e.Err)
}

func (e *ReloadError) Unwrap() []error { return []error{e.Err, e.RestoreErr} }

// Update makes haproxy run set: diff against the disk, validate (see
// Validation), write, reload and confirm. A set haproxy -c rejects before
// the reload returns a *validate.Error and leaves the live files untouched;
// a failed reload returns a *ReloadError after restoring the last good set,
// holding haproxy's messages (the reload answer, or under ValidateAuto those
// of haproxy -c). An unchanged set does nothing once haproxy is known to run
// it.
func (d *Driver) Update(ctx context.Context, set files.Set) (Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	set = slices.Clone(set)
	set.Sort()

	if d.lastGood == nil {
		snap, err := d.store.Snapshot()
		if err != nil {
			return Result{}, fmt.Errorf("reading the current files: %w", err)
		}
		d.lastGood = snap
	}
	plan, err := d.store.Plan(set)
	if err != nil {
		return Result{}, err
	}
	res := Result{Changed: plan.Changed()}
	if plan.Empty() && !d.inSync && d.loadedMarkerMatches(set) {
		// A previous controller saw haproxy load exactly these files: a
		// restarted controller needs no reload.
		d.inSync = true
		d.lastGood = set
	}
	if plan.Empty() && d.inSync {
		return res, nil
	}

	if d.checker != nil && d.opts.Validate == ValidateAlways && !plan.Empty() {
		start := time.Now()
		err := d.checker.Check(ctx, set)
		res.Timings.Validate = time.Since(start)
		if err != nil {
			return res, err
		}
	}

	start := time.Now()
	err = d.store.Apply(set, plan)
	res.Timings.WriteConfig = time.Since(start)
	if err != nil {
		return res, d.failed(fmt.Errorf("writing files: %w", err))
	}

	start = time.Now()
	res.Reload, err = d.master.Reload(ctx)
	res.Timings.ReloadHAProxy = time.Since(start)
	if err != nil {
		return res, d.failed(d.explain(ctx, set, err, &res.Timings))
	}
	res.Reloaded = true
	d.lastGood, d.inSync, d.persisted = set, true, nil
	d.writeLoadedMarker(set)
	return res, nil
}

// WriteServerState replaces the server state file haproxy reads at its next
// (re)load with load-server-state (see runtime.KeepServersState).
func (d *Driver) WriteServerState(data []byte) error {
	return filestore.WriteAtomic(files.File{Path: d.opts.Layout.ServerState(), Data: data, Private: true})
}

// OnDisk is the content of path in the live files, nil when absent: what
// a restarted controller learns from the files its predecessor wrote.
func (d *Driver) OnDisk(path string) []byte {
	data, _ := os.ReadFile(path)
	return data
}

// InSync says whether haproxy is known to run the files on disk, so that
// runtime API commands reach a worker with the expected servers.
func (d *Driver) InSync() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inSync
}

// Invalidate forgets that haproxy runs the files on disk (a new master
// appeared): the next Update reloads.
func (d *Driver) Invalidate() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.inSync, d.persisted = false, nil
	_ = d.removeLoadedMarker() // best effort: inSync already forces the next reload
}

// Persist prepares writing set without reloading, for a change the caller
// applies through the runtime API: a haproxy that restarts, or a later
// reload, then loads the state the running worker gets. The loaded marker
// is removed at once and comes back only with Confirm, so a controller
// killed before every command was confirmed leaves no marker and its
// successor reloads the half-changed worker instead of trusting it. The
// files are written by write, which the caller runs while it sends the
// commands (both take about a millisecond) and waits for before Confirm.
func (d *Driver) Persist(set files.Set) (write func() error, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	set = slices.Clone(set)
	set.Sort()
	if err := d.store.Check(set); err != nil {
		return nil, err // before the worker is touched
	}
	d.persisted = nil
	if err := d.removeLoadedMarker(); err != nil {
		// A marker left in place would vouch for a worker we are changing.
		return nil, fmt.Errorf("removing the loaded marker: %w", err)
	}
	return func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		// The plan reads every file back: not before the commands.
		plan, err := d.store.Plan(set)
		if err == nil {
			err = d.store.Apply(set, plan)
		}
		if err != nil {
			d.inSync = false
			return fmt.Errorf("writing files: %w", err)
		}
		d.lastGood, d.persisted = set, set
		return nil
	}, nil
}

// Confirm records that haproxy confirmed every runtime command of the change
// the last Persist wrote: the running worker now matches the files, and a
// restarted controller may skip the reload. Without a Persist since the last
// Update or Invalidate it does nothing.
func (d *Driver) Confirm() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.persisted != nil && d.inSync {
		d.writeLoadedMarker(d.persisted)
	}
	d.persisted = nil
}

// explain adds haproxy -c's verdict on set to a reload haproxy refused
// without saying why (2.6), under ValidateAuto: the check runs only once a
// reload failed, so a config that loads costs no check.
func (d *Driver) explain(ctx context.Context, set files.Set, err error, t *Timings) error {
	var refused *mastercli.ReloadError
	if d.checker == nil || d.opts.Validate != ValidateAuto || !errors.As(err, &refused) || refused.Output != "" || !refused.Refused {
		return err
	}
	start := time.Now()
	checkErr := d.checker.Check(ctx, set)
	t.Validate = time.Since(start)
	if checkErr == nil {
		return err
	}
	return errors.Join(err, checkErr)
}

// failed puts the last good set back on disk after err.
func (d *Driver) failed(err error) error {
	d.inSync, d.persisted = false, nil
	_ = d.removeLoadedMarker()
	plan, restoreErr := d.store.Plan(d.lastGood)
	if restoreErr == nil {
		restoreErr = d.store.Apply(d.lastGood, plan)
	}
	return &ReloadError{Err: err, RestoreErr: restoreErr}
}
