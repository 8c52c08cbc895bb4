package netns

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/external-haproxy/kit/test/poll"
)

func TestBackendInNamespaceIsReachable(t *testing.T) {
	n, err := New(250)
	if err != nil {
		t.Fatalf("network namespaces need root and iproute2: %v", err)
	}
	defer n.Close()
	ip, err := n.AddAddress()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir() + "/echoserver"
	if out, err := exec.Command("go", "build", "-o", bin, "../echoserver").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if _, err := n.Start(bin, "-listen", ip+":8080", "-name", "ns-backend"); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: time.Second}
	var body []byte
	var last error
	err = poll.Every(context.Background(), 10*time.Second, 50*time.Millisecond, func() (bool, error) {
		resp, err := c.Get("http://" + ip + ":8080/x")
		if last = err; err != nil {
			return false, nil
		}
		defer resp.Body.Close()
		body, err = io.ReadAll(resp.Body)
		return err == nil, err
	}, func() string { return fmt.Sprint(last) })
	if err != nil {
		t.Fatalf("backend at %s not reachable: %v", ip, err)
	}
	if !strings.Contains(string(body), "server=ns-backend") {
		t.Fatalf("unexpected answer %q", body)
	}
}
