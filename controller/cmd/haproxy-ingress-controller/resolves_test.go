package main

import "testing"

// TestResolves: names the controller checks for syslog-endpoint resolve as
// haproxy would resolve them; localhost comes from /etc/hosts, so the test
// sends no DNS query.
func TestResolves(t *testing.T) {
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		if !resolves(host) {
			t.Errorf("%s does not resolve", host)
		}
	}
	if resolves("") {
		t.Error("the empty name resolves")
	}
}
