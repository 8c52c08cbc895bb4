// Package netns gives end-to-end tests and the demo backends with real,
// non-loopback addresses — which EndpointSlices require — without sending a
// packet anywhere but into network namespaces this process created: one
// namespace behind a veth pair, with as many addresses as needed.
package netns

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Net is one network namespace joined to the host by a veth pair on a
// private /24: the host side is .1, backend addresses are .2 and up.
type Net struct {
	Name   string
	prefix string // e.g. "10.213.7."
	peer   string // the namespace's end of the veth
	lock   *os.File
	next   int
	procs  []*exec.Cmd
}

// New creates the namespace on the first free /24 from 10.213.<subnet>.0/24
// on (one whose host address no leftover namespace holds). A lock file held
// for the namespace's life keeps concurrent test processes off the same
// subnet. Needs root (CAP_NET_ADMIN).
func New(subnet int) (*Net, error) {
	lock, subnet, err := lockSubnet(subnet)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	n := &Net{Name: "kit-" + id, prefix: fmt.Sprintf("10.213.%d.", subnet), next: 2, lock: lock}
	host, peer := "kh"+id, "kp"+id
	steps := [][]string{
		{"netns", "add", n.Name},
		{"link", "add", host, "type", "veth", "peer", "name", peer},
		{"link", "set", peer, "netns", n.Name},
		{"addr", "add", n.prefix + "1/24", "dev", host},
		{"link", "set", host, "up"},
		{"-n", n.Name, "link", "set", "lo", "up"},
		{"-n", n.Name, "link", "set", peer, "up"},
	}
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			n.Close()
			return nil, fmt.Errorf("ip %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	n.peer = peer
	return n, nil
}

// AddAddress gives the namespace one more address and returns it.
func (n *Net) AddAddress() (string, error) {
	ip := fmt.Sprintf("%s%d", n.prefix, n.next)
	if out, err := exec.Command("ip", "-n", n.Name, "addr", "add", ip+"/24", "dev", n.peer).CombinedOutput(); err != nil {
		return "", fmt.Errorf("adding %s: %v: %s", ip, err, out)
	}
	n.next++
	return ip, nil
}

// AddRoute routes cidr on-link over the namespace's veth, without a gateway:
// what nothing inside answers for is dropped there, never forwarded on.
func (n *Net) AddRoute(cidr string) error {
	if out, err := exec.Command("ip", "-n", n.Name, "route", "add", cidr, "dev", n.peer).CombinedOutput(); err != nil {
		return fmt.Errorf("route %s: %v: %s", cidr, err, out)
	}
	return nil
}

// Start runs a command inside the namespace; Close stops it.
func (n *Net) Start(argv ...string) (*exec.Cmd, error) {
	cmd := Command(n.Name, argv...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	n.procs = append(n.procs, cmd)
	return cmd, nil
}

// Command runs argv in the network namespace name and nowhere else: nsenter
// joins only the netns, where `ip netns exec` would also give the command a
// mount namespace of its own, hiding the mounts it makes (a kubelet's volumes)
// from every other process.
func Command(name string, argv ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=" + Path(name), "--"}, argv...)...)
}

// Path is the file that holds the network namespace name.
func Path(name string) string { return filepath.Join("/run/netns", name) }

// Delete removes the network namespace name (and the veth inside it) if it
// exists; for cleaning up after a process that died without Close.
func Delete(name string) error {
	if _, err := os.Stat(Path(name)); err != nil {
		return nil
	}
	if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns del %s: %v: %s", name, err, out)
	}
	return nil
}

// Prefix is the namespace's /24 without the last byte, e.g. "10.213.7.".
func (n *Net) Prefix() string { return n.prefix }

// Close stops what Start started and deletes the namespace and its veth.
func (n *Net) Close() {
	for _, p := range n.procs {
		// SIGKILL: teardown of a test's processes, not a graceful stop
		// under test (Pdeathsig is SIGKILL too).
		_ = p.Process.Kill()
		_ = p.Wait()
	}
	_ = exec.Command("ip", "netns", "del", n.Name).Run()
	if n.lock != nil {
		n.lock.Close() // releases the subnet
	}
}

// hostHas says whether an interface of this host has the address ip.
func hostHas(ip string) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.String() == ip {
			return true
		}
	}
	return false
}

// lockSubnet takes the first subnet from start on whose lock is free.
func lockSubnet(start int) (*os.File, int, error) {
	for s := start; s < 255; s++ {
		f, err := os.OpenFile(filepath.Join(os.TempDir(), fmt.Sprintf("kit-netns-10.213.%d.lock", s)), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return nil, 0, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
			if !hostHas(fmt.Sprintf("10.213.%d.1", s)) {
				return f, s, nil
			}
			// A process that died without Close left its namespace and
			// veth behind (the lock went with it): a second route to the
			// same /24 would send this namespace's traffic to the dead one.
		}
		f.Close()
	}
	return nil, 0, fmt.Errorf("no free subnet in 10.213.%d-254.0/24", start)
}
