package model

import (
	"reflect"
	"strings"
	"testing"
)

func TestDuration(t *testing.T) {
	for _, c := range []struct {
		in, out string // out "" : refused
	}{
		{"50s", "50s"}, {"50000", "50s"}, {"60s", "1m"}, {"1500ms", "1500ms"}, {"1500us", "2ms"}, {"1us", "1ms"},
		{"24d", "24d"}, {"2147483647", "2147483647ms"}, {"2147483647ms", "2147483647ms"},
		{"2147483648", ""}, {"25d", ""}, {"999999999d", ""}, {"596524h", ""}, {"0", ""}, {"0s", ""},
		{"-1s", ""}, {"1.5s", ""}, {"1 s", ""}, {"1S", ""}, {"1w", ""}, {"", ""}, {"1234567890", "1234567890ms"}, {"12345678901", ""},
	} {
		d, ok := parseDuration(c.in)
		if got := map[bool]string{true: d.String(), false: ""}[ok]; got != c.out {
			t.Errorf("parseDuration(%q) = %q, want %q", c.in, got, c.out)
		}
	}
}

func TestGlobalLimits(t *testing.T) {
	resolves := func(h string) bool { return h == "logs.example" }
	for _, c := range []struct {
		key, value string
		ok         bool
		msg        string // in the problem when refused
	}{
		{"timeout-client", "24d", true, ""},
		{"timeout-client", "25d", false, "from 1ms to 2147483647ms"},
		{"timeout-stop", "999999999d", false, "from 1ms to 2147483647ms"},
		{"timeout-connect", "0", false, "from 1ms"},
		{"nbthread", "64", true, ""},
		{"nbthread", "65", false, "an integer from 0 to 64"},
		{"max-connections", "500000", true, ""},
		{"max-connections", "500001", false, "an integer from 1 to 500000"},
		{"max-connections", "0", false, "an integer from 1"},
		{"balance-algorithm", "random(1)", true, ""},
		{"balance-algorithm", "random(99)", true, ""},
		{"balance-algorithm", "random(0)", false, "random(N) with N from 1 to 99"},
		{"balance-algorithm", "random(01)", false, "random(N)"},
		{"http-port", "65535", true, ""},
		{"http-port", "65536", false, "an integer from 1 to 65535"},
		{"hsts-max-age", "2147483647", true, ""},
		{"hsts-max-age", "2147483648", false, "an integer from 0 to 2147483647"},
		{"syslog-endpoint", "127.0.0.1:514", true, ""},
		{"syslog-endpoint", "[::1]:514", true, ""},
		{"syslog-endpoint", "logs.example:514", true, ""},
		{"syslog-endpoint", "nowhere.example:514", false, `host "nowhere.example" does not resolve`},
		{"syslog-endpoint", "logs.example:0", false, "host:port"},
		{"syslog-tag", strings.Repeat("a", 65), false, "1 to 64 letters"},
	} {
		var problems []Problem
		g := buildGlobal(map[string]string{c.key: c.value}, resolves, func(p Problem) { problems = append(problems, p) })
		if c.ok != (len(problems) == 0) {
			t.Errorf("%s=%q: problems %v, want ok=%v", c.key, c.value, problems, c.ok)
			continue
		}
		if !c.ok {
			p := problems[0]
			if p.Object != configMapRef || p.Field != c.key || p.Severity != Warning || !strings.Contains(p.Message, c.msg) {
				t.Errorf("%s=%q: problem %q, want a warning on the key containing %q", c.key, c.value, p, c.msg)
			}
			if !reflect.DeepEqual(g, buildGlobal(nil, nil, func(Problem) {})) {
				t.Errorf("%s=%q: refused value changed the global settings: %+v", c.key, c.value, g)
			}
		}
	}
	// Without a lookup only addresses are kept: the model does no I/O.
	var problems []Problem
	buildGlobal(map[string]string{"syslog-endpoint": "logs.example:514"}, nil, func(p Problem) { problems = append(problems, p) })
	if len(problems) != 1 || !strings.Contains(problems[0].Message, "does not resolve") {
		t.Errorf("name without a lookup: %v", problems)
	}
}
