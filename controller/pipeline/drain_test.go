package pipeline

import (
	"context"
	"testing"
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
