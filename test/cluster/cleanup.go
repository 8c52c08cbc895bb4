package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/external-haproxy/kit/test/netns"
	"github.com/external-haproxy/kit/test/poll"
	"github.com/external-haproxy/kit/test/proc"
)

// cleanupNode removes what a node may leave behind, also after a crash of
// the process that ran it: processes still in the node's namespace or in a
// container whose root lies in dir (SIGKILL), mounts under dir, pod network
// namespaces on the node's pod subnet, and the node's namespace itself.
func cleanupNode(dir string, st nodeState) error {
	var errs []error
	if err := killStrays(dir, st.Netns); err != nil {
		errs = append(errs, err)
	}
	if err := unmountUnder(dir); err != nil {
		errs = append(errs, err)
	}
	if err := deletePodNetns(st.PodSubnet); err != nil {
		errs = append(errs, err)
	}
	if err := netns.Delete(st.Netns); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// killStrays kills, until none is left, every process that belongs to the
// node: in its network namespace (containerd's shims, hostNetwork
// containers) or rooted in a container filesystem under dir.
func killStrays(dir, ns string) error {
	var nsIno uint64
	if fi, err := os.Stat(netns.Path(ns)); err == nil {
		nsIno = fi.Sys().(*syscall.Stat_t).Ino
	}
	var pids []int
	err := poll.Every(context.Background(), 10*time.Second, 50*time.Millisecond, func() (bool, error) {
		pids = strays(dir, nsIno)
		// SIGKILL: what is left of a node being torn down (or of a crashed
		// run) has nothing to finish; its parts got their SIGTERM before.
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		return len(pids) == 0, nil
	}, nil)
	if err != nil {
		return fmt.Errorf("cluster: processes %v of the node in %s survive SIGKILL: %w", pids, dir, err)
	}
	return nil
}

func strays(dir string, nsIno uint64) []int {
	return proc.Living(func(pid int) bool {
		pdir := fmt.Sprintf("/proc/%d", pid)
		if root, err := os.Readlink(pdir + "/root"); err == nil && strings.HasPrefix(root, dir+"/") {
			return true
		}
		fi, err := os.Stat(pdir + "/ns/net")
		return nsIno != 0 && err == nil && fi.Sys().(*syscall.Stat_t).Ino == nsIno
	})
}

// unmountUnder detaches every mount below dir, deepest first: the kubelet's
// volume mounts and containerd's rootfs and shm mounts.
func unmountUnder(dir string) error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	defer f.Close()
	var mounts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			mounts = append(mounts, fields[4])
		}
	}
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	var errs []error
	for _, m := range mounts {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", m, err))
		}
	}
	return errors.Join(errs...)
}

// deletePodNetns deletes the pod namespaces containerd made (cni-…) that
// hold an address of subnet: the CNI plugin would have, had the pod been
// stopped through the CRI.
func deletePodNetns(subnet string) error {
	_, pods, err := net.ParseCIDR(subnet)
	if err != nil {
		return err
	}
	names, _ := filepath.Glob("/run/netns/cni-*")
	var errs []error
	for _, p := range names {
		name := filepath.Base(p)
		out, err := exec.Command("ip", "-n", name, "-4", "-o", "addr", "show").Output()
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(out)) {
			if ip, _, err := net.ParseCIDR(f); err == nil && pods.Contains(ip) {
				errs = append(errs, netns.Delete(name))
				break
			}
		}
	}
	return errors.Join(errs...)
}
