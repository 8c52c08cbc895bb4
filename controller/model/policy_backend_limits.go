package model

import "net/netip"

// RateLimit is what one client address may ask of a backend (limit-*).
type RateLimit struct {
	RPS         int // requests per second; 0: no limit
	Connections int // requests in progress; 0: no limit
	Whitelist   []netip.Prefix
}

// On tells whether a limit applies.
func (l *RateLimit) On() bool { return l.RPS > 0 || l.Connections > 0 }
