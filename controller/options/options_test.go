package options

import (
	"flag"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, args ...string) *Options {
	t.Helper()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	o := Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestUpstreamFlagsParse(t *testing.T) {
	o := parse(t, "--configmap=ingress-controller/haproxy-ingress", "--master-socket=/var/run/haproxy/master.sock",
		"--reload-retry=5s", "--rate-limit-update=0.5", "--controller-class=edge", "--annotations-prefix=corp.example,haproxy-ingress.github.io")
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := o.AnnotationPrefixes(); len(got) != 2 || got[0] != "corp.example" || got[1] != "haproxy-ingress.github.io" {
		t.Errorf("annotation prefixes %q", got)
	}
	if got := parse(t).AnnotationsPrefix; got != "haproxy-ingress.github.io,ingress.kubernetes.io" {
		t.Errorf("default --annotations-prefix %q, want upstream's", got)
	}
	if o.ReloadRetry != 5*time.Second || o.MinInterval() != 2*time.Second {
		t.Errorf("reload-retry %v, interval %v", o.ReloadRetry, o.MinInterval())
	}
	if o.FullControllerName() != "haproxy-ingress.github.io/controller/edge" {
		t.Errorf("controller name %q", o.FullControllerName())
	}
}

// TestPrefixNeedingQuotes accepts what render quotes (render's tests run
// haproxy on such a directory).
func TestPrefixNeedingQuotes(t *testing.T) {
	if err := parse(t, `--local-filesystem-prefix=/tmp/we ir'd"\#(x)`).Validate(); err != nil {
		t.Error(err)
	}
}

func TestValidateNamesTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--rate-limit-update=11"}, "--rate-limit-update"},
		{[]string{"--validate-config=sometimes"}, "--validate-config"},
		{[]string{"--spare-backends=-1"}, "--spare-backends"},
		{[]string{"--configmap=haproxy-ingress"}, "--configmap"},
		{[]string{"--default-backend-service=a/b/c"}, "--default-backend-service"},
		{[]string{"--master-socket=run/master.sock"}, "--master-socket"},
		{[]string{"--local-filesystem-prefix=/tmp/a\nglobal"}, "--local-filesystem-prefix"},
		{[]string{"--local-filesystem-prefix=/tmp/a\x00"}, "--local-filesystem-prefix"},
		{[]string{"--local-filesystem-prefix=/tmp/a,b"}, "--local-filesystem-prefix"},
		{[]string{"--local-filesystem-prefix=/tmp/${HOME}"}, "--local-filesystem-prefix"},
		{[]string{"--annotations-prefix=example.com/"}, "--annotations-prefix"},
		{[]string{"--annotations-prefix=a.example,,b.example"}, "--annotations-prefix"},
		{[]string{"--annotations-prefix=a.example,a.example"}, "--annotations-prefix"},
	} {
		err := parse(t, tc.args...).Validate()
		if err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("%v: got %v, want an error naming %s", tc.args, err, tc.flag)
		}
	}
}
