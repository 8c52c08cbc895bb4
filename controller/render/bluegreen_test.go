package render

import (
	"testing"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// TestBlueGreenSelectorSnippets: the header's rules, then the cookie's, one
// per slot, on the backend's map of slot groups; none without a selector.
func TestBlueGreenSelectorSnippets(t *testing.T) {
	l := files.DefaultLayout("")
	be := func(bg model.BlueGreen) model.Model {
		return model.Model{Backends: []model.Backend{{Name: "ns_svc_80", Service: model.Ref{Namespace: "ns", Name: "svc"}, Policy: model.BackendPolicy{BlueGreen: bg},
			Servers: []model.Server{{Name: "srv001", Addr: "10.0.0.1", Port: 80, Enabled: true, Group: "blue"},
				{Name: "srv002", Addr: "10.0.0.2", Port: 80, Enabled: true}, {Name: "srv003", Addr: "127.0.0.1", Port: 1}}}}}
	}
	const m = `map('"/etc/haproxy/maps/bluegreen_ns_svc_80.map"')`
	both := be(model.BlueGreen{Header: model.BlueGreenSelector{Name: "X-Version", Label: "v"}, Cookie: model.BlueGreenSelector{Name: "version", Label: "v"}})
	checkLines(t, backends(&model.Global{}, both.Backends), []string{
		"http-request set-var(txn.bluegreen_hdr) req.hdr(X-Version)",
		"use-server srv001 if { srv_is_up(srv001) } { str(srv001)," + m + ",strcmp(txn.bluegreen_hdr) eq 0 }",
		"use-server srv003 if { srv_is_up(srv003) } { str(srv003)," + m + ",strcmp(txn.bluegreen_hdr) eq 0 }",
		"http-request set-var(txn.bluegreen_cook) req.cook(version)",
		"use-server srv003 if { srv_is_up(srv003) } { str(srv003)," + m + ",strcmp(txn.bluegreen_cook) eq 0 }",
	}, nil)
	if got := blueGreenMaps(&both, l); len(got) != 1 || string(got[0].Data) != "srv001 blue\n" {
		t.Errorf("maps %+v, want the enabled slot with a group", got)
	}
	none := be(model.BlueGreen{})
	checkLines(t, backends(&model.Global{}, none.Backends), nil, []string{"use-server", "bluegreen"})
	if got := blueGreenMaps(&none, l); len(got) != 0 {
		t.Errorf("maps without a selector: %+v", got)
	}
	relabelled := be(both.Backends[0].Policy.BlueGreen)
	relabelled.Backends[0].Servers[1].Group = "green"
	old, cur := Render(&both, l), Render(&relabelled, l)
	if got := BlueGreenMapChanges(old, cur, l); len(got) != 1 || string(got[0].Data) != "srv001 blue\nsrv002 green\n" {
		t.Errorf("changes %+v, want the relabelled backend's map", got)
	}
	if got := BlueGreenMapChanges(old, old, l); len(got) != 0 {
		t.Errorf("changes of an equal set: %+v", got)
	}
}
