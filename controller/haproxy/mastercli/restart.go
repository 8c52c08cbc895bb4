package mastercli

import (
	"fmt"
	"time"
)

// Restarted says whether cur comes from another master than prev, read
// earlier: a haproxy that was restarted, not reloaded. In a container the
// master is PID 1 every time, so a new PID alone misses a restarted
// container; a reload keeps the master and counts up its reloads, and a new
// master starts again from zero reloads and a short uptime.
func Restarted(prev, cur Proc) bool {
	if cur.Master.PID != prev.Master.PID || cur.Master.Reloads < prev.Master.Reloads {
		return true
	}
	pu, ok1 := ParseUptime(prev.Master.Uptime)
	cu, ok2 := ParseUptime(cur.Master.Uptime)
	return ok1 && ok2 && cur.Master.Reloads == prev.Master.Reloads && cu < pu
}

// ParseUptime parses show proc's uptime column, e.g. "0d00h00m04s".
func ParseUptime(s string) (time.Duration, bool) {
	var d, h, m, sec int
	if n, err := fmt.Sscanf(s, "%dd%dh%dm%ds", &d, &h, &m, &sec); err != nil || n != 4 {
		return 0, false
	}
	return time.Duration(((d*24+h)*60+m)*60+sec) * time.Second, true
}
