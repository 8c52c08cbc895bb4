package runtime

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/external-haproxy/kit/controller/model"
)

func TestSetServer(t *testing.T) {
	for _, c := range []struct {
		op   model.SlotOp
		want string
	}{
		{model.SlotOp{Backend: "ns_s_80", Server: "srv003", Action: model.SlotAddr, Addr: "10.0.0.3", Port: 8080}, "set server ns_s_80/srv003 addr 10.0.0.3 port 8080"},
		{model.SlotOp{Backend: "ns_s_80", Server: "srv003", Action: model.SlotAddr, Addr: "fd00::1", Port: 80}, "set server ns_s_80/srv003 addr fd00::1 port 80"},
		{model.SlotOp{Backend: "ns_s_80", Server: "srv003", Action: model.SlotWeight, Weight: 0}, "set server ns_s_80/srv003 weight 0"},
		{model.SlotOp{Backend: "ns_s_80", Server: "srv003", Action: model.SlotReady}, "set server ns_s_80/srv003 state ready"},
		{model.SlotOp{Backend: "ns_s_80", Server: "srv001", Action: model.SlotDrain}, "set server ns_s_80/srv001 state drain"},
		{model.SlotOp{Backend: "_default_backend", Server: "srv001", Action: model.SlotMaint}, "set server _default_backend/srv001 state maint"},
	} {
		if got := SetServer(c.op); got != c.want {
			t.Errorf("SetServer(%+v) = %q, want %q", c.op, got, c.want)
		}
	}
}

func TestReplaceCert(t *testing.T) {
	pem := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMC4C\n-----END PRIVATE KEY-----\n\n")
	got := ReplaceCert("/tmp/a dir/certs/ns_a.pem", pem)
	want := []string{
		"set ssl cert /tmp/a\\ dir/certs/ns_a.pem <<\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMC4C\n-----END PRIVATE KEY-----\n",
		"commit ssl cert /tmp/a\\ dir/certs/ns_a.pem",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ReplaceCert = %q\nwant %q", got, want)
	}
}

func TestMapCommands(t *testing.T) {
	path := `/var/lib/hap;x\y/maps/http-prefix.map`
	quoted := `/var/lib/hap\;x\\y/maps/http-prefix.map`
	if got, want := PrepareMap(path), "prepare map "+quoted; got != want {
		t.Errorf("PrepareMap = %q, want %q", got, want)
	}
	if got, want := AddMap("3", path, []byte("foo.com/ ns_s_80\nbar.com/ ns_t_80\n")), []string{"add map @3 " + quoted + " <<\nfoo.com/ ns_s_80\nbar.com/ ns_t_80\n"}; !slices.Equal(got, want) {
		t.Errorf("AddMap = %q, want %q", got, want)
	}
	if got, want := CommitMap("3", path), "commit map @3 "+quoted; got != want {
		t.Errorf("CommitMap = %q, want %q", got, want)
	}
}

func TestParseMapVersion(t *testing.T) {
	if v, err := ParseMapVersion("New version created: 12\n"); err != nil || v != "12" {
		t.Errorf("ParseMapVersion = %q, %v; want 12", v, err)
	}
	for _, bad := range []string{"", "\n", "Unknown map identifier. Please use #<id> or <file>.\n", "Permission denied\n"} {
		if v, err := ParseMapVersion(bad); err == nil {
			t.Errorf("ParseMapVersion(%q) = %q, want an error", bad, v)
		}
	}
}

func TestOK(t *testing.T) {
	for out, ok := range map[string]bool{
		"\n": true,
		"IP changed from '127.0.0.1' to '10.0.0.2', port changed from '1' to '8080' by 'stats socket command'\n": true,
		"no need to change the addr, port changed from '1' to '37563' by 'stats socket command'\n":               true,
		"Transaction created for certificate /etc/haproxy/certs/ns_a.pem!\n":                                     true,
		"Transaction updated for certificate /etc/haproxy/certs/ns_a.pem!\n":                                     true,
		"Committing /etc/haproxy/certs/ns_a.pem\nSuccess!\n":                                                     true,
		"New version created: 2\n":       true,
		"No such server.\n":              false,
		"Unknown command: 'set sever'\n": false,
		"Require 'backend/server'.\n":    false,
		"Permission denied\n":            false,
		"Can't replace a certificate which is not referenced by the configuration!\n": false,
		"Unknown map identifier. Please use #<id> or <file>.\n":                       false,
	} {
		if OK(out) != ok {
			t.Errorf("OK(%q) = %v", out, !ok)
		}
	}
}

func TestParseStat(t *testing.T) {
	if got, want := ShowStat("ns_s_80"), "show stat ns_s_80 4 -1"; got != want {
		t.Errorf("ShowStat = %q, want %q", got, want)
	}
	stats, err := ParseStat("# pxname,svname,qcur,scur,status,\nns_s_80,srv001,0,1,DRAIN,\nns_s_80,srv002,2,0,MAINT,\n\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 2 || stats["srv001"]["scur"] != "1" || stats["srv002"]["qcur"] != "2" || stats["srv002"]["status"] != "MAINT" {
		t.Errorf("ParseStat = %v", stats)
	}
	for _, bad := range []string{"", "No such backend.\n", "# pxname,svname\n"} {
		if _, err := ParseStat(bad); err == nil {
			t.Errorf("ParseStat(%q): no error", bad)
		}
	}
}

// A large map goes in commands whose payloads fit haproxy's buffer, cut
// between lines, holding every line once in order.
func TestAddMapSplitsLargePayloads(t *testing.T) {
	var data strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&data, "host-%d.example.com/ ns_svc_%d_80@0123456789abcdef\n", i, i)
	}
	cmds := AddMap("7", "/m.map", []byte(data.String()))
	var lines []string
	for _, c := range cmds {
		head, body, _ := strings.Cut(c, " <<\n")
		if head != "add map @7 /m.map" || len(body) > maxPayload+1 || !strings.HasSuffix(body, "\n") {
			t.Fatalf("command %q... (%d bytes of payload)", head, len(body))
		}
		lines = append(lines, strings.Split(strings.TrimSuffix(body, "\n"), "\n")...)
	}
	if want := strings.Split(strings.TrimSuffix(data.String(), "\n"), "\n"); !slices.Equal(lines, want) || len(cmds) < 30 {
		t.Fatalf("%d commands carry %d lines, want all %d in order", len(cmds), len(lines), len(want))
	}
}

// TestKeepServersState: the kept lines with the version and header, by
// the header's column names; what is not a server state is an error.
func TestKeepServersState(t *testing.T) {
	const header = "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord"
	kept := "4 be_a 1 srv001 10.0.0.1 0 0 1 1 13 4 0 0 6 0 0 0 - 8080 -\n"
	dump := "1\n" + header + "\n" + kept + "4 be_a 2 srv002 127.0.0.1 0 5 1 1 13 1 0 0 6 0 0 0 - 1 -\n\n"
	got, err := KeepServersState(dump, func(be, srv, addr string, port int) bool {
		return be == "be_a" && srv == "srv001" && addr == "10.0.0.1" && port == 8080
	})
	if want := "1\n" + header + "\n" + kept; err != nil || string(got) != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"", "Unknown command\n", "1\n# be_id be_name srv_name\n"} {
		if _, err := KeepServersState(bad, func(string, string, string, int) bool { return true }); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
