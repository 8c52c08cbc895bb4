package netns

import (
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
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
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := c.Get("http://" + ip + ":8080/x")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(b), "server=ns-backend") {
				t.Fatalf("unexpected answer %q", b)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("backend at %s not reachable: %v", ip, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
