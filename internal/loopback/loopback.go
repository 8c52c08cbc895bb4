// Package loopback hands out free TCP ports on 127.0.0.1, where the tests and
// the local control plane listen.
package loopback

import (
	"net"
	"testing"
)

// FreePorts returns n different ports nobody listens on now: every listener
// is held until all n ports are known, so no port comes twice.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Ports is FreePorts for a test or benchmark, which it fails on error.
func Ports(tb testing.TB, n int) []int {
	tb.Helper()
	ports, err := FreePorts(n)
	if err != nil {
		tb.Fatal(err)
	}
	return ports
}
