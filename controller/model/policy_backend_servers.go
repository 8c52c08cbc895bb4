package model

// ServerOptions apply to every server (slot) of a backend.
type ServerOptions struct {
	MaxConn, MaxQueue int // 0: no limit
	Weight            int // every server's share of the requests, 1-256; 0: haproxy's 1
	Check             HealthCheck
	ProxyProtocol     string // v1, v2, v2-ssl, v2-ssl-cn; "": none
}

// HealthCheck is the health check of a backend's servers; on when URI or
// Interval is set, else haproxy sends every server traffic unchecked.
type HealthCheck struct {
	URI        string   // HTTP check path; "": TCP check
	Interval   Duration // 0: haproxy's 2s
	Rise, Fall int      // 0: haproxy's 2 and 3
}

// BaseWeight is the weight haproxy gives every server of the backend, the
// default-server's: initial-weight, or haproxy's 1.
func (o ServerOptions) BaseWeight() int { return max(o.Weight, 1) }

// On tells whether the servers are checked.
func (h HealthCheck) On() bool { return h.URI != "" || h.Interval != 0 }
