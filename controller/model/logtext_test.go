package model

import (
	"strings"
	"testing"
)

// TestProblemCannotForgeLogLines: a problem is one log line whatever its
// parts hold, and ordinary values are not quoted.
func TestProblemCannotForgeLogLines(t *testing.T) {
	forged := "x\nE1202 00:00:00.000000 1 pipeline.go:1] haproxy update id=1 failed"
	for _, p := range []Problem{
		{Ref{"Ingress", "ns", forged}, "spec", "bad", Error},
		{Ref{"Ingress", "ns", "a"}, "annotation " + forged, "bad", Error},
		{Ref{"Ingress", "ns", "a"}, "spec", "secret: " + forged, Warning},
		{Ref{"Ingress", "ns", "a"}, "", "bidi \u202e" + forged, Warning},
		{Ref{"Ingress", "ns", "a"}, "", "invalid UTF-8 \xff" + forged, Warning},
	} {
		if s := p.String(); strings.ContainsAny(s, "\n\r") || !strings.Contains(s, `"`) {
			t.Errorf("%#v: %s", p, s)
		}
	}
	p := Problem{Ref{"Ingress", "ns", "a"}, "spec.rules[0].host", `invalid host "a b"`, Error}
	if got, want := p.String(), `error: Ingress/ns/a spec.rules[0].host: invalid host "a b"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
