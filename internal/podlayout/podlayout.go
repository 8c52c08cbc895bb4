// Package podlayout is what the controller and the pod around it agree on: the
// directories the controller and haproxy share, the sockets in them, the ports
// each side serves and the controller flags a pod spec refers to. The
// controller serves this layout and the KRM function (fn/) builds pods for it,
// so both import it rather than repeating the values.
package podlayout

// The three shared directories.
const (
	ConfigDir = "/etc/haproxy"     // haproxy -f: *.cfg files and maps
	StateDir  = "/var/lib/haproxy" // certificates and other state
	RunDir    = "/var/run/haproxy" // unix sockets
)

// Socket file names inside RunDir.
const (
	MasterSocketName = "master.sock" // haproxy -W -S: the master CLI
	AdminSocketName  = "admin.sock"  // a worker's runtime API (stats socket)
)

// Ports and paths.
const (
	// HealthzPort is haproxy's monitor-uri frontend; it answers only once the
	// controller's rendered config is loaded, so probes on it mean "serving".
	HealthzPort = 10253
	HealthzPath = "/healthz"
	// StatsPort is haproxy's stats page.
	StatsPort = 1936
	// ControllerPort is the controller's own /healthz, /readyz and /metrics
	// (the port of its --healthz-addr); every other port of the pod is haproxy's.
	ControllerPort = 10254
)

// Controller flags, without the leading "--".
const (
	MasterSocketFlag = "master-socket" // external haproxy's master socket
	HealthzAddrFlag  = "healthz-addr"  // address of ControllerPort
	InitFlag         = "init"          // write a placeholder config and exit (init container)
)
