package render

import (
	"strings"

	"github.com/external-haproxy/kit/controller/model"
)

// rateLimit counts each client address's requests in a table of the
// backend's own and refuses those over a limit with 429. The table keys
// IPv4 clients as mapped IPv6 addresses, so one table serves both.
func rateLimit(c *cfg, l *model.RateLimit) {
	if !l.On() {
		return
	}
	c.line("stick-table type ipv6 size 100k expire 1m store conn_cur,http_req_rate(1s)")
	track := "http-request track-sc1 src"
	if len(l.Whitelist) > 0 {
		aclLines(c, "limit_exempt", "src", strings.Fields(prefixes(l.Whitelist)))
		// An address not tracked has no counters: no limit applies.
		track += " unless limit_exempt"
	}
	c.line(track)
	if l.RPS > 0 {
		c.line("http-request deny deny_status 429 if { sc1_http_req_rate gt " + itoa(l.RPS) + " }")
	}
	if l.Connections > 0 {
		c.line("http-request deny deny_status 429 if { sc1_conn_cur gt " + itoa(l.Connections) + " }")
	}
}
