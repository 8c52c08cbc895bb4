package model_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/external-haproxy/kit/controller/model"
	"github.com/external-haproxy/kit/internal/loopback"
	"github.com/external-haproxy/kit/test/haproxybin"
	"github.com/external-haproxy/kit/test/liveproxy"
	"github.com/external-haproxy/kit/test/testcert"
)

// serveConns runs handle on each connection to a free loopback port until
// the test ends, and returns the port.
func serveConns(t *testing.T, handle func(net.Conn)) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				handle(c)
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// lineEcho serves one line per connection: "got: " and the first line the
// connection brought.
func lineEcho(t *testing.T) int {
	return serveConns(t, func(c net.Conn) {
		line, _ := bufio.NewReader(c).ReadString('\n')
		fmt.Fprintf(c, "got: %s\n", strings.TrimRight(line, "\r\n"))
	})
}

// tcpAsk sends first and then "ping\n" over c and returns the answer line.
func tcpAsk(c net.Conn, first string) (string, error) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, first+"ping\n"); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// TestLiveTCPServices: the ports of --tcp-services-configmap forward TCP
// to the Service: as it is; taking the client's PROXY header and passing
// the client on in PROXY v1; ending TLS with the entry's certificate and
// refusing a client without a certificate of the entry's CA; each
// connection logged in tcp-log-format.
func TestLiveTCPServices(t *testing.T) {
	crt, key := testcert.SelfSigned(t, testcert.ECKey(t), "tcp-own", "tcp.test")
	ca := testcert.NewCA(t, "ca")
	alice := ca.Client(t, "alice")
	haproxybin.Run(t, func(t *testing.T, hb haproxybin.Build) {
		syslog := listenSyslog(t)
		ports := loopback.Ports(t, 3)
		plain, proxied, secure := strconv.Itoa(ports[0]), strconv.Itoa(ports[1]), strconv.Itoa(ports[2])
		snap := &model.Snapshot{
			ConfigMap: map[string]string{"bind-ip-addr-tcp": "127.0.0.1", "syslog-endpoint": syslog.LocalAddr().String(), "syslog-format": "raw",
				"tcp-log-format": "kittcp %ft %b"},
			Secrets: []*corev1.Secret{tlsSecret("tcp-crt", crt, key), caSecret("tcp-ca", ca.PEM)},
			TCPServices: &model.TCPServicesSource{Source: tcpServicesRef, Data: map[string]string{
				plain:   "ns/db:80",
				proxied: "ns/db:80:PROXY:PROXY-V1",
				secure:  "ns/db:80:::tcp-crt::tcp-ca",
			}},
		}
		liveproxy.ServiceAt(snap, "ns", "db", lineEcho(t))
		p := liveproxy.Start(t, hb.Path, snap, model.Options{})
		if len(p.Problems) > 0 {
			t.Fatalf("problems: %v", p.Problems)
		}
		dial := func(port string) net.Conn {
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		if got, err := tcpAsk(dial(plain), ""); got != "got: ping" {
			t.Errorf("plain port: %q %v, want the backend's echo", got, err)
		}
		if line := logLine(t, syslog, "kittcp"); line != "kittcp tcp_"+plain+" _tcp_"+plain {
			t.Errorf("log line %q", line)
		}
		// 192.0.2.7 is only a name in the header: nothing is sent there.
		got, err := tcpAsk(dial(proxied), "PROXY TCP4 192.0.2.7 127.0.0.1 1111 2222\r\n")
		if !strings.HasPrefix(got, "got: PROXY TCP4 192.0.2.7 ") {
			t.Errorf("PROXY port: %q %v, want the client of the PROXY header passed on in v1", got, err)
		}
		if got, err := tcpAsk(dial(proxied), ""); err == nil {
			t.Errorf("PROXY port without a header: %q, want the connection closed", got)
		}
		tlsConfig := &tls.Config{ServerName: "tcp.test", InsecureSkipVerify: true, Certificates: []tls.Certificate{alice}}
		c := tls.Client(dial(secure), tlsConfig)
		if got, err := tcpAsk(c, ""); got != "got: ping" || c.ConnectionState().PeerCertificates[0].Subject.CommonName != "tcp-own" {
			t.Errorf("TLS port: %q %v, want the echo behind the entry's certificate", got, err)
		}
		tlsConfig.Certificates = nil
		if got, err := tcpAsk(tls.Client(dial(secure), tlsConfig), ""); err == nil {
			t.Errorf("TLS port without a client certificate: %q, want a refused handshake", got)
		}
	})
}
