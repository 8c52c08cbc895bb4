package mastercli

import (
	"reflect"
	"testing"
)

// Fixtures: 2.6.12 observed (notes §2.3); 3.0.11 observed after a failed
// reload: the 2.6 layout padded with trailing spaces, "# programs" still
// printed; 3.x per source (3.1+: no "# programs" header without programs);
// 2.4 per upstream haproxy-ingress socket.go.
const (
	showProc26 = `#<PID>          <type>          <reloads>       <uptime>        <version>
19661           master          2 [failed: 0]   0d00h00m15s     2.6.12-1+deb12u4
# workers
21342           worker          0               0d00h00m00s     2.6.12-1+deb12u4
# old workers
20011           worker          1               0d00h00m11s     2.6.12-1+deb12u4
# programs

`
	showProc26Failed = `#<PID>          <type>          <reloads>       <uptime>        <version>
19661           master          3 [failed: 1]   0d00h00m26s     2.6.12-1+deb12u4
# workers
21342           worker          1               0d00h00m11s     2.6.12-1+deb12u4
# programs

`
	showProc30Failed = `#<PID>          <type>          <reloads>       <uptime>        <version>      
13289           master          2 [failed: 1]   0d00h00m03s     3.0.11-9e587df 
# workers
13413           worker          1               0d00h00m01s     3.0.11-9e587df 
# programs

`
	showProc3x = `#<PID>          <type>          <reloads>       <uptime>        <version>
7               master          12 [failed: 2]  1d02h03m04s     3.2.4-98813a1
# workers
4242            worker          0               0d00h00m01s     3.2.4-98813a1
# old workers
4100            worker          3               0d00h10m00s     3.2.4-98813a1

`
	showProc24 = `#<PID>          <type>          <relative PID>  <reloads>       <uptime>        <version>
100             master          0               5               0d00h01m00s     2.4.22
# workers
300             worker          1               0               0d00h00m10s     2.4.22
# old workers
200             worker          [was: 1]        1               0d00h00m50s     2.4.22
# programs
`
)

func TestParseShowProc(t *testing.T) {
	w := func(pid, reloads int, uptime, version string) Process {
		return Process{PID: pid, Type: "worker", Reloads: reloads, Uptime: uptime, Version: version}
	}
	tests := []struct {
		name, in string
		want     Proc
	}{
		{"2.6 after reload", showProc26, Proc{
			Master:     Process{PID: 19661, Type: "master", Reloads: 2, Uptime: "0d00h00m15s", Version: "2.6.12-1+deb12u4"},
			Workers:    []Process{w(21342, 0, "0d00h00m00s", "2.6.12-1+deb12u4")},
			OldWorkers: []Process{w(20011, 1, "0d00h00m11s", "2.6.12-1+deb12u4")},
		}},
		{"2.6 failed reload", showProc26Failed, Proc{
			Master:  Process{PID: 19661, Type: "master", Reloads: 3, Failed: 1, Uptime: "0d00h00m26s", Version: "2.6.12-1+deb12u4"},
			Workers: []Process{w(21342, 1, "0d00h00m11s", "2.6.12-1+deb12u4")},
		}},
		{"3.0 failed reload", showProc30Failed, Proc{
			Master:  Process{PID: 13289, Type: "master", Reloads: 2, Failed: 1, Uptime: "0d00h00m03s", Version: "3.0.11-9e587df"},
			Workers: []Process{w(13413, 1, "0d00h00m01s", "3.0.11-9e587df")},
		}},
		{"3.x without programs", showProc3x, Proc{
			Master:     Process{PID: 7, Type: "master", Reloads: 12, Failed: 2, Uptime: "1d02h03m04s", Version: "3.2.4-98813a1"},
			Workers:    []Process{w(4242, 0, "0d00h00m01s", "3.2.4-98813a1")},
			OldWorkers: []Process{w(4100, 3, "0d00h10m00s", "3.2.4-98813a1")},
		}},
		{"2.4 relative pid", showProc24, Proc{
			Master:     Process{PID: 100, Type: "master", Reloads: 5, Uptime: "0d00h01m00s", Version: "2.4.22"},
			Workers:    []Process{w(300, 0, "0d00h00m10s", "2.4.22")},
			OldWorkers: []Process{w(200, 1, "0d00h00m50s", "2.4.22")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseShowProc(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseShowProcRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"Unknown command.\n",
		"#<PID> <type> <reloads> <uptime> <version>\n# workers\n1 worker 0 0d 2.6\n",
		"#<PID> <type> <reloads> <uptime> <version>\nx master 1 [failed: 0] 0d 2.6\n",
	} {
		if p, err := ParseShowProc(in); err == nil {
			t.Errorf("ParseShowProc(%q) = %+v, want error", in, p)
		}
	}
}

func TestReloadFailure(t *testing.T) {
	before, _ := ParseShowProc(showProc26)
	failed, _ := ParseShowProc(showProc26Failed)
	if r := reloadFailure(before, failed, false); r == "" {
		t.Error("failed counter 1 not reported as failure")
	}
	ok := before
	ok.Workers = []Process{{PID: 30000, Type: "worker"}}
	if r := reloadFailure(before, ok, false); r != "" {
		t.Errorf("new worker reported as failure: %s", r)
	}
	if r := reloadFailure(before, before, false); r == "" {
		t.Error("unchanged current worker not reported as failure")
	}
	none := ok
	none.Workers = nil
	if r := reloadFailure(before, none, true); r == "" {
		t.Error("no worker not reported as failure")
	}
}
