// Package dnsserver is a name server on a loopback UDP port for tests: it
// answers A queries for the names it is given, and nothing else, so that a
// test can point haproxy's resolvers at it.
package dnsserver

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// Server answers A queries from its records until the test ends.
type Server struct {
	Addr netip.AddrPort
	mu   sync.Mutex
	a    map[string]netip.Addr // fully qualified, lower case
}

// Start runs a server on a free 127.0.0.1 UDP port.
func Start(t testing.TB) *Server {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: conn.LocalAddr().(*net.UDPAddr).AddrPort(), a: map[string]netip.Addr{}}
	t.Cleanup(func() { conn.Close() })
	go s.serve(conn)
	return s
}

// Set makes name resolve to addr (an IPv4 address) from the next query on.
func (s *Server) Set(name string, addr netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.a[strings.ToLower(strings.TrimSuffix(name, "."))+"."] = addr
}

func (s *Server) serve(conn *net.UDPConn) {
	buf := make([]byte, 4096)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return // closed
		}
		if answer, ok := s.answer(buf[:n]); ok {
			conn.WriteToUDPAddrPort(answer, from)
		}
	}
}

// answer is the reply to one query: its A record with a 1 s TTL, an empty
// answer for other types, NXDOMAIN for unknown names.
func (s *Server) answer(query []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	s.mu.Lock()
	addr, known := s.a[strings.ToLower(q.Name.String())]
	s.mu.Unlock()
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
	if !known {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if b.StartQuestions() != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil, false
	}
	if known && q.Type == dnsmessage.TypeA {
		if b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 1}, dnsmessage.AResource{A: addr.As4()}) != nil {
			return nil, false
		}
	}
	out, err := b.Finish()
	return out, err == nil
}
