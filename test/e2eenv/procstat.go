package e2eenv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Resource use of the pod's processes, from /proc, for the benchmarks.

// clockTick is USER_HZ, the unit of the times in /proc/<pid>/stat: 100 on
// every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// ProcUsage is what /proc/<pid>/stat and /proc/<pid>/status say about one
// process.
type ProcUsage struct {
	PPID int
	// CPU is utime+stime; ChildrenCPU is cutime+cstime, the CPU of the
	// children it has waited for (exited haproxy workers for the master,
	// haproxy -c checks for the controller).
	CPU, ChildrenCPU time.Duration
	RSS, HWM         int64 // VmRSS, VmHWM in bytes (0 for a zombie)
}

// ReadProc reads one process's ProcUsage.
func ReadProc(pid int) (ProcUsage, error) {
	var u ProcUsage
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	// The command name in parentheses may hold spaces: fields start after
	// the last ')', with the state (field 3) first.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return u, fmt.Errorf("/proc/%d/stat: %q", pid, stat)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 15 {
		return u, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ticks := make([]int64, 4)
	for k := range ticks { // fields 14-17: utime stime cutime cstime
		if ticks[k], err = strconv.ParseInt(f[11+k], 10, 64); err != nil {
			return u, fmt.Errorf("/proc/%d/stat: %v", pid, err)
		}
	}
	if u.PPID, err = strconv.Atoi(f[1]); err != nil {
		return u, fmt.Errorf("/proc/%d/stat: %v", pid, err)
	}
	u.CPU = time.Duration(ticks[0]+ticks[1]) * clockTick
	u.ChildrenCPU = time.Duration(ticks[2]+ticks[3]) * clockTick
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		var dst *int64
		switch k {
		case "VmRSS":
			dst = &u.RSS
		case "VmHWM":
			dst = &u.HWM
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return u, fmt.Errorf("/proc/%d/status %s: %v", pid, k, err)
		}
		*dst = kb << 10
	}
	return u, nil
}

// children lists the processes whose parent is pid.
func children(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, s := range stats {
		c, err := strconv.Atoi(filepath.Base(filepath.Dir(s)))
		if err != nil {
			continue
		}
		if u, err := ReadProc(c); err == nil && u.PPID == pid {
			out = append(out, c)
		}
	}
	return out
}

// ControllerUsage is the controller process's ProcUsage.
func (e *Env) ControllerUsage() (ProcUsage, error) {
	pid, err := e.PID(context.Background(), Controller)
	if err != nil {
		return ProcUsage{}, err
	}
	// The image's PID 1 is dumb-init, with the controller its one child.
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) == "dumb-init" {
		kids := children(pid)
		if len(kids) != 1 {
			return ProcUsage{}, fmt.Errorf("dumb-init (pid %d) has %d children, want the controller alone", pid, len(kids))
		}
		pid = kids[0]
	}
	return ReadProc(pid)
}

// HaproxyUsage is the sidecar's resource use.
type HaproxyUsage struct {
	// CPU is the master's utime+stime+cutime+cstime plus utime+stime of its
	// live children (current and old workers): a worker's CPU moves into the
	// master's cutime once the master reaps it, so a difference of two
	// readings counts workers that exited in between. It misses only
	// grandchildren the workers did not wait for.
	CPU       time.Duration
	RSS       int64 // VmRSS of the master plus its live children
	Processes int   // master + live children
}

// HaproxyUsage reads the sidecar's master (re-executed in place on reload,
// so its PID stays the container's) and its children from /proc.
func (e *Env) HaproxyUsage() (HaproxyUsage, error) {
	pid, err := e.PID(context.Background(), Sidecar)
	if err != nil {
		return HaproxyUsage{}, err
	}
	m, err := ReadProc(pid)
	if err != nil {
		return HaproxyUsage{}, err
	}
	h := HaproxyUsage{CPU: m.CPU + m.ChildrenCPU, RSS: m.RSS, Processes: 1}
	for _, c := range children(pid) {
		if u, err := ReadProc(c); err == nil { // gone meanwhile: reaped into the master's cutime, at worst missed
			h.CPU += u.CPU
			h.RSS += u.RSS
			h.Processes++
		}
	}
	return h, nil
}
