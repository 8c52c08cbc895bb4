package model

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
)

// TCPServicesSource is the ConfigMap of --tcp-services-configmap: each
// entry is a port haproxy listens on and the Service it forwards to, as
// upstream writes it:
//
//	<namespace>/<service>:<port>[:<in-proxy>[:<out-proxy>[:<crt secret>[:<check interval>[:<ca secret>]]]]]
type TCPServicesSource struct {
	Source Ref
	Data   map[string]string
	// Missing says why Data could not be read; empty: it was.
	Missing string
}

// TCPService is a port where haproxy forwards TCP connections, in TCP
// mode, to the servers of Backend. Whether the servers get the PROXY
// protocol and how they are checked is the backend's (Policy.Server).
type TCPService struct {
	Addr    Addr
	Backend string
	// AcceptProxy: clients send the PROXY protocol (<in-proxy> PROXY).
	AcceptProxy bool
	// Cert ends TLS on the port; nil: plain TCP.
	Cert *Cert `json:",omitempty"`
	// ClientCA: only clients with a certificate it signed connect; nil:
	// none asked.
	ClientCA *ClientCA `json:",omitempty"`
	Source   Ref       // the ConfigMap
}

// tcpBackendPrefix starts the TCP services' backend names; no Service
// backend starts with "_".
const tcpBackendPrefix = "_tcp_"

// defaultTCPCheck is upstream's check interval of a TCP service's servers.
const defaultTCPCheck Duration = 2000

// tcpServices adds a TCPService and its backend per valid entry of src,
// sorted by port; a bad entry is reported on its field and left out.
func (b *builder) tcpServices(src *TCPServicesSource) {
	if src == nil {
		return
	}
	if src.Missing != "" {
		b.report(Problem{src.Source, "", src.Missing + "; no TCP services", Warning})
		return
	}
	ports := make([]int, 0, len(src.Data))
	byPort := map[int]string{}
	for k, v := range src.Data {
		field := "data[" + k + "]"
		port, err := strconv.Atoi(k)
		if err != nil || port < 1 || port > 65535 || strconv.Itoa(port) != k {
			b.report(Problem{src.Source, field, "invalid port " + quoteValue(k) + ", want 1 to 65535", Error})
			continue
		}
		ports, byPort[port] = append(ports, port), v
	}
	slices.Sort(ports)
	for _, port := range ports {
		field := "data[" + strconv.Itoa(port) + "]"
		if err := b.tcpService(src.Source, field, port, byPort[port]); err != nil {
			b.report(Problem{src.Source, field, quoteValue(byPort[port]) + ": " + err.Error() + "; TCP service skipped", Error})
		}
	}
}

// tcpEntry is one entry's fields, as written.
type tcpEntry struct {
	namespace, service, port, inProxy, outProxy, crt, check, ca string
}

func parseTCPEntry(v string) (tcpEntry, error) {
	f := strings.Split(v, ":")
	if len(f) < 2 || len(f) > 7 {
		return tcpEntry{}, errors.New("want <namespace>/<service>:<port> and up to 5 more fields separated by ':'")
	}
	f = append(f, make([]string, 7-len(f))...)
	e := tcpEntry{port: f[1], inProxy: f[2], outProxy: f[3], crt: f[4], check: f[5], ca: f[6]}
	var ok bool
	if e.namespace, e.service, ok = strings.Cut(f[0], "/"); !ok || !validName(e.namespace) || !validName(e.service) {
		return e, fmt.Errorf("invalid service %s, want <namespace>/<name>", quoteValue(f[0]))
	}
	return e, nil
}

// tcpService adds the service of one entry, or says what is wrong with it.
func (b *builder) tcpService(ref Ref, field string, port int, v string) error {
	e, err := parseTCPEntry(v)
	if err != nil {
		return err
	}
	sb := &networkingv1.IngressServiceBackend{Name: e.service}
	if n, err := strconv.Atoi(e.port); err == nil {
		sb.Port.Number = int32(n)
	} else {
		sb.Port.Name = e.port
	}
	if msg := checkServiceBackend(sb); msg != "" {
		return errors.New(msg)
	}
	svc := TCPService{Addr: Addr{IP: b.m.Global.BindIPTCP, Port: port}, Backend: tcpBackendPrefix + strconv.Itoa(port), Source: ref}
	switch e.inProxy {
	case "":
	case "PROXY":
		svc.AcceptProxy = true
	default:
		return fmt.Errorf("in-proxy %s, want PROXY or nothing", quoteValue(e.inProxy))
	}
	// Only what applies to TCP of the global values: the http ones would
	// be haproxy warnings.
	p := b.backends.plainPolicy()
	p = BackendPolicy{Balance: p.Balance, Timeouts: p.Timeouts, Upstream: p.Upstream, TCP: true,
		Server: ServerOptions{MaxConn: p.Server.MaxConn, MaxQueue: p.Server.MaxQueue, Weight: p.Server.Weight}}
	switch e.outProxy {
	case "":
	case "PROXY", "PROXY-V2":
		p.Server.ProxyProtocol = "v2"
	case "PROXY-V1":
		p.Server.ProxyProtocol = "v1"
	default:
		return fmt.Errorf("out-proxy %s, want PROXY, PROXY-V1, PROXY-V2 or nothing", quoteValue(e.outProxy))
	}
	switch e.check {
	case "":
		p.Server.Check.Interval = defaultTCPCheck
	case "-":
	default:
		d, ok := parseDuration(e.check)
		if !ok || !strings.ContainsAny(e.check, "smhd") {
			return fmt.Errorf("check interval %s, want a time with its unit (us, ms, s, m, h or d) or - for none", quoteValue(e.check))
		}
		p.Server.Check.Interval = d
	}
	if e.crt != "" {
		if svc.Cert, err = b.tcpCert(e.namespace, e.crt); err != nil {
			return err
		}
	}
	if e.ca != "" {
		if svc.Cert == nil {
			return errors.New("a CA secret needs the certificate secret")
		}
		ns, name, err := secretRef(e.namespace, e.ca)
		if err != nil {
			return err
		}
		if svc.ClientCA, err = b.clientCA(ns, name, map[string]*ClientCA{}); err != nil {
			return err
		}
	}
	for _, f := range b.m.Frontends {
		for _, a := range addrs(f) {
			if overlap(a, svc.Addr) {
				return fmt.Errorf("port %d is the %s frontend's", port, f.Kind)
			}
		}
	}
	b.backends.build(svc.Backend, e.namespace, sb, ref, field)
	be := b.backends.built[svc.Backend]
	be.Policy = p
	b.backends.fixed[svc.Backend] = true
	b.m.TCPServices = append(b.m.TCPServices, svc)
	return nil
}

// secretRef reads a Secret of an entry: namespace/name, or a name in the
// Service's namespace ns. The ConfigMap is the administrator's: any
// namespace may be named.
func secretRef(ns, v string) (string, string, error) {
	name := v
	if n, nm, ok := strings.Cut(v, "/"); ok {
		ns, name = n, nm
	}
	if !validName(ns) || !validName(name) {
		return "", "", fmt.Errorf("invalid secret %s", quoteValue(v))
	}
	return ns, name, nil
}

// tcpCert is the certificate bundle of a TLS Secret of an entry.
func (b *builder) tcpCert(ns, v string) (*Cert, error) {
	ns, name, err := secretRef(ns, v)
	if err != nil {
		return nil, err
	}
	sec := b.secrets[ns+"/"+name]
	if sec == nil {
		return nil, fmt.Errorf("secret %s/%s not found", ns, name)
	}
	pem, err := secretBundle(sec)
	if err != nil {
		return nil, fmt.Errorf("secret %s/%s: %v", ns, name, err)
	}
	return &Cert{Name: ns + "_" + name, PEM: pem, Source: Ref{Kind: "Secret", Namespace: ns, Name: name}}, nil
}
