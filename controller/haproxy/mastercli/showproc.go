package mastercli

import (
	"fmt"
	"strconv"
	"strings"
)

// Proc is the parsed reply of the master's "show proc".
type Proc struct {
	Master     Process
	Workers    []Process // "# workers": the first one is the current worker (@1)
	OldWorkers []Process // "# old workers": soft-stopping, still serving old connections
}

// Process is one line of "show proc".
type Process struct {
	PID     int
	Type    string // master, worker, or a program name
	Reloads int    // master: reload attempts since it started; worker: reloads it survived
	Failed  int    // master only, haproxy 2.5+: consecutive failed reloads
	Uptime  string
	Version string
}

// CurrentWorker returns the PID of the worker that serves new connections, or 0.
func (p Proc) CurrentWorker() int {
	if len(p.Workers) == 0 {
		return 0
	}
	return p.Workers[0].PID
}

// ParseShowProc parses "show proc" as printed by haproxy 2.2 to 3.x:
//
//	#<PID>          <type>          <reloads>       <uptime>        <version>
//	19661           master          1 [failed: 0]   0d00h00m04s     2.6.12-1+deb12u4
//	# workers
//	20011           worker          0               0d00h00m00s     2.6.12-1+deb12u4
//	# old workers
//	# programs
//
// 2.2 to 2.4 have an extra "<relative PID>" column and no "[failed: N]"; 3.1+
// omits "# programs" when there are none. The columns are located from the
// header rather than fixed, so that both layouts parse with the same code.
func ParseShowProc(reply string) (Proc, error) {
	var p Proc
	relativePID := false
	section := "master"
	haveMaster := false
	for n, line := range strings.Split(reply, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "#<PID>"):
			relativePID = strings.Contains(line, "<relative PID>")
			continue
		case strings.HasPrefix(line, "#"):
			section = strings.TrimSpace(strings.TrimPrefix(line, "#"))
			continue
		}
		proc, err := parseProcLine(line, relativePID)
		if err != nil {
			return Proc{}, fmt.Errorf("show proc line %d %q: %w", n+1, line, err)
		}
		switch {
		case section == "master" && proc.Type == "master":
			p.Master, haveMaster = proc, true
		case section == "workers":
			p.Workers = append(p.Workers, proc)
		case section == "old workers":
			p.OldWorkers = append(p.OldWorkers, proc)
		}
	}
	if !haveMaster {
		return Proc{}, fmt.Errorf("show proc: no master line in %q", reply)
	}
	return p, nil
}

func parseProcLine(line string, relativePID bool) (Process, error) {
	f := strings.Fields(line)
	if relativePID && len(f) > 2 {
		// 2.2-2.4: "<relative PID>" is "1" for workers, "[was: 1]" for old ones.
		drop := 1
		if f[2] == "[was:" {
			drop = 2
		}
		f = append(f[:2:2], f[min(2+drop, len(f)):]...)
	}
	if len(f) < 3 {
		return Process{}, fmt.Errorf("too few fields")
	}
	var p Process
	var err error
	if p.PID, err = strconv.Atoi(f[0]); err != nil {
		return Process{}, fmt.Errorf("pid: %w", err)
	}
	p.Type = f[1]
	if p.Reloads, err = strconv.Atoi(f[2]); err != nil {
		return Process{}, fmt.Errorf("reloads: %w", err)
	}
	rest := f[3:]
	if len(rest) >= 2 && rest[0] == "[failed:" {
		if p.Failed, err = strconv.Atoi(strings.TrimSuffix(rest[1], "]")); err != nil {
			return Process{}, fmt.Errorf("failed: %w", err)
		}
		rest = rest[2:]
	}
	if len(rest) > 0 {
		p.Uptime = rest[0]
	}
	if len(rest) > 1 {
		p.Version = rest[1]
	}
	return p, nil
}
