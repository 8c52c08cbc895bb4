package pipeline

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/test/poll"
)

func TestIdleServers(t *testing.T) {
	// haproxy 2.6's "show stat <backend> 4 -1", cut to the first columns.
	answer := "# pxname,svname,qcur,qmax,scur,smax,slim,stot,status,\n" +
		"be,srv001,0,0,1,1,,6,DRAIN,\n" +
		"be,srv002,0,0,0,1,,20,no check,\n" +
		"be,srv003,2,2,0,0,,0,MAINT,\n\n"
	send := func(_ context.Context, cmd string) (string, error) {
		if cmd != "show stat be 4 -1" {
			t.Errorf("sent %q", cmd)
		}
		return answer, nil
	}
	idle, err := idleServers(context.Background(), send, "be")
	if err != nil {
		t.Fatal(err)
	}
	if len(idle) != 3 || idle["srv001"] || !idle["srv002"] || idle["srv003"] {
		t.Errorf("idle = %v, want only srv002 (srv001 has a session, srv003 a queue)", idle)
	}
	for _, bad := range []string{"", "No such backend.\n", "Unknown command.\n"} {
		answer = bad
		if _, err := idleServers(context.Background(), send, "be"); err == nil {
			t.Errorf("answer %q: no error", bad)
		}
	}
}

// fakeWorker answers "show stat" with one idle row per server and records
// the other commands.
type fakeWorker struct {
	mu   sync.Mutex
	sent []string
}

func (f *fakeWorker) send(_ context.Context, cmd string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.HasPrefix(cmd, "show stat ") {
		return "# pxname,svname,qcur,scur,\nbe,srv001,0,0,\nbe,srv002,0,0,\n", nil
	}
	f.sent = append(f.sent, cmd)
	return "\n", nil
}

func (f *fakeWorker) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

func drainingModel() *model.Model {
	return &model.Model{Backends: []model.Backend{{Name: "be", Servers: []model.Server{
		{Name: "srv001", Addr: "10.0.0.1", Port: 80, Draining: true},
		{Name: "srv002", Addr: "10.0.0.2", Port: 80, Enabled: true}}}}}
}

var drainOp = model.SlotOp{Backend: "be", Server: "srv001", Action: model.SlotDrain}

// TestDrainerEnds: an idle draining server goes to maint, and the next
// update's model has its slot free.
func TestDrainerEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var d drainer
	f := &fakeWorker{}
	if err := d.dynamic(ctx, f.send, []model.SlotOp{drainOp}, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	err := poll.Every(ctx, 5*time.Second, 10*time.Millisecond, func() (bool, error) {
		return slices.Equal(f.commands(), []string{"set server be/srv001 state maint"}), nil
	}, nil)
	if err != nil {
		t.Fatalf("sent %q, want one maint: %v", f.commands(), err)
	}
	running := drainingModel()
	d.settle(running)
	if running.Backends[0].Servers[0].Draining {
		t.Error("the drained slot is still busy in the running model")
	}
}

// TestDrainerForgets: a slot an update brings back, and the slots of a
// worker a reload replaced, are no longer drained (no maint for them); a
// rejected reload keeps the drains of the worker that still runs.
func TestDrainerForgets(t *testing.T) {
	d := drainer{polling: true} // no poller: this looks at the bookkeeping only
	d.pending = map[slot]time.Time{{"be", "srv001"}: time.Now(), {"be", "srv002"}: time.Now()}
	ready := model.SlotOp{Backend: "be", Server: "srv001", Action: model.SlotReady}
	if err := d.dynamic(context.Background(), nil, []model.SlotOp{ready}, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.pending[slot{"be", "srv001"}]; ok || len(d.pending) != 1 {
		t.Errorf("after srv001 came back: pending %v, want srv002 only", d.pending)
	}
	if _, err := d.reload(drainingModel(), func() (bool, error) { return false, errors.New("rejected") }, func() bool { return true }); err == nil || len(d.pending) != 1 {
		t.Errorf("rejected reload: err %v, pending %v", err, d.pending)
	}
	next := drainingModel()
	if _, err := d.reload(next, func() (bool, error) { return true, nil }, func() bool { return true }); err != nil {
		t.Fatal(err)
	}
	if len(d.pending) != 0 || next.Backends[0].Servers[0].Draining {
		t.Errorf("after a reload: pending %v, next %+v", d.pending, next.Backends[0].Servers)
	}
}
