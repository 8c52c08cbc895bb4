package mastercli

import "testing"

func TestRestarted(t *testing.T) {
	proc := func(pid, reloads int, uptime string) Proc {
		return Proc{Master: Process{PID: pid, Reloads: reloads, Uptime: uptime}}
	}
	for _, c := range []struct {
		name      string
		prev, cur Proc
		want      bool
	}{
		{"same master, later", proc(1, 2, "0d00h01m00s"), proc(1, 2, "0d00h01m02s"), false},
		{"reloaded in place", proc(1, 2, "0d00h01m00s"), proc(1, 3, "0d00h00m00s"), false},
		{"new pid", proc(7, 0, "0d00h01m00s"), proc(9, 0, "0d00h01m02s"), true},
		{"container restarted, pid 1 again, fewer reloads", proc(1, 3, "0d00h05m00s"), proc(1, 0, "0d00h00m01s"), true},
		{"container restarted before any reload", proc(1, 0, "0d00h00m40s"), proc(1, 0, "0d00h00m01s"), true},
		{"days", proc(1, 0, "2d03h00m00s"), proc(1, 0, "1d23h59m59s"), true},
	} {
		if got := Restarted(c.prev, c.cur); got != c.want {
			t.Errorf("%s: Restarted = %v, want %v", c.name, got, c.want)
		}
	}
}
