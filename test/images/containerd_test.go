package images

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A private containerd configured like the node's (CRI plugin on), so that
// the import is tested the way the node does it.
const containerdConfig = `version = 2
root = "%[1]s/root"
state = "%[1]s/state"
[grpc]
  address = "%[1]s/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "%[1]s/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "` + Pause + `"
  # Root here lacks CAP_SYS_RESOURCE: without this every sandbox fails.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "%[1]s/cni"
`

// Import puts every image into containerd's k8s.io namespace under its
// exact name, unpacked, and the haproxy images run for real.
func TestContainerdImport(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: starts containerd and runs containers")
	}
	var bins []string
	for _, b := range []string{"containerd", "ctr", "runc", "containerd-shim-runc-v2"} {
		p, err := exec.LookPath(b)
		if err != nil {
			t.Skipf("%s is not installed (apt-get install containerd runc)", b)
		}
		bins = append(bins, p)
	}
	dir := built(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel) // after the cleanups below, which still run ctr
	// Short: the socket path must fit in sockaddr_un.
	work, err := os.MkdirTemp("", "ctd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A container left running by a failed test keeps its rootfs mounted.
		mounts, _ := os.ReadFile("/proc/self/mounts")
		for _, l := range strings.Split(string(mounts), "\n") {
			if f := strings.Fields(l); len(f) > 1 && strings.HasPrefix(f[1], work+"/") {
				syscall.Unmount(f[1], syscall.MNT_DETACH)
			}
		}
		os.RemoveAll(work)
	})
	sock := filepath.Join(work, "containerd.sock")
	cfg := filepath.Join(work, "config.toml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, containerdConfig, work), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cd := exec.Command(bins[0], "--config", cfg)
	cd.Stdout, cd.Stderr = &log, &log
	if err := cd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cd.Process.Signal(syscall.SIGTERM)
		err := cd.Wait()
		if t.Failed() {
			t.Logf("containerd (%v):\n%s", err, log.String())
		}
	})
	ctr := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, bins[1], append([]string{"--address", sock, "--namespace", "k8s.io"}, args...)...).CombinedOutput()
		return string(out), err
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := ctr("version"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd did not answer on %s in 30 s:\n%s", sock, log.String())
		}
	}

	start := time.Now()
	if err := Import(ctx, bins[1], sock, dir); err != nil {
		t.Fatal(err)
	}
	t.Logf("imported %d images in %v", len(Names()), time.Since(start).Round(time.Millisecond))
	// The CRI plugin labels every image it tracks, on containerd's image
	// events: the label shows that the kubelet will see the image.
	const managed = "io.cri-containerd.image=managed"
	var missing []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		out, err := ctr("images", "ls")
		if err != nil {
			t.Fatalf("ctr images ls: %v\n%s", err, out)
		}
		missing = slices.DeleteFunc(Names(), func(n string) bool {
			return slices.ContainsFunc(strings.Split(out, "\n"), func(l string) bool {
				return strings.HasPrefix(l, n+" ") && strings.Contains(l, managed)
			})
		})
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not in containerd's k8s.io namespace with %s: %q\n%s", managed, missing, out)
		}
	}
	// Unpacked into the snapshotter, or the CRI plugin could not create a
	// container from it without a pull, which cannot happen here.
	out, err := ctr("images", "check")
	if err != nil {
		t.Fatalf("ctr images check: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		if f := strings.Fields(line); !strings.Contains(line, "complete") || f[len(f)-1] != "true" {
			t.Errorf("not complete and unpacked: %s", line)
		}
	}

	// A container of each haproxy image: the binary loads its libraries from
	// the Debian base and runs as uid 99; the entrypoint script turns a
	// leading option into `haproxy -W -db ...` as the official one does.
	for _, tc := range []struct{ image, version string }{{HAProxy26, "2.6.12"}, {HAProxy30, "3.0.11"}} {
		for i, args := range [][]string{{"haproxy", "-v"}, {"docker-entrypoint.sh", "-vv"}} {
			id := fmt.Sprintf("t%d-%s", i, tc.version)
			out, err := ctr(append([]string{"run", "--rm", "--net-host", tc.image, id}, args...)...)
			if err != nil {
				t.Fatalf("ctr run %s %q: %v\n%s", tc.image, args, err, out)
			}
			if want := "HAProxy version " + tc.version; !strings.Contains(out, want) {
				t.Errorf("%s %q printed %q, want %q", tc.image, args, out, want)
			}
		}
	}
	// The sandbox image holds still until SIGTERM, then exits at once: the
	// runtime stops every pod's sandbox that way.
	if out, err := ctr("run", "--detach", Pause, "pause"); err != nil {
		t.Fatalf("ctr run %s: %v\n%s", Pause, err, out)
	}
	t.Cleanup(func() { // before containerd stops (cleanups run last-in first-out)
		ctr("task", "kill", "--signal", "SIGKILL", "pause")
		ctr("task", "delete", "pause")
		ctr("container", "delete", "pause")
	})
	status := func() string {
		out, _ := ctr("task", "ls")
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) == 3 && f[0] == "pause" {
				return f[2]
			}
		}
		return ""
	}
	time.Sleep(500 * time.Millisecond) // still running after a while
	if s := status(); s != "RUNNING" {
		t.Fatalf("pause task is %q, want RUNNING", s)
	}
	if out, err := ctr("task", "kill", "--signal", "SIGTERM", "pause"); err != nil {
		t.Fatalf("ctr task kill: %v\n%s", err, out)
	}
	for deadline := time.Now().Add(5 * time.Second); status() != "STOPPED"; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("pause still %q 5 s after SIGTERM", status())
		}
	}

	out, err = ctr("run", "--rm", "--net-host", HAProxy30, "t-id", "id")
	if err != nil || strings.TrimSpace(out) != "uid=99(haproxy) gid=99(haproxy) groups=99(haproxy)" {
		t.Errorf("id in %s: %q (%v), want uid=99(haproxy) gid=99(haproxy)", HAProxy30, out, err)
	}
}
