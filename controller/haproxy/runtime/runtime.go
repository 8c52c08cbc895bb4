// Package runtime writes the runtime API commands that apply the typed
// changes of package model to a running haproxy worker, and reads haproxy's
// answers to them. It holds the command syntax only: sending is the
// driver's (haproxy.Driver.Runtime).
package runtime

import (
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/external-haproxy/kit/controller/haproxy/mastercli"
	"github.com/external-haproxy/kit/controller/model"
)

// SetServer is the command of one server slot change.
func SetServer(op model.SlotOp) string {
	cmd := "set server " + op.Backend + "/" + op.Server
	switch op.Action {
	case model.SlotAddr:
		return cmd + " addr " + op.Addr + " port " + strconv.Itoa(op.Port)
	case model.SlotWeight:
		return cmd + " weight " + strconv.Itoa(op.Weight)
	}
	return cmd + " state " + string(op.Action)
}

// ReplaceCert are the commands that swap new content into the certificate
// haproxy loaded from path, in a transaction haproxy commits atomically.
func ReplaceCert(path string, pem []byte) []string {
	arg := mastercli.Arg(path)
	return []string{"set ssl cert " + arg + " <<\n" + payload(pem), "commit ssl cert " + arg}
}

// MapVersion is a map version that "prepare map" created and that "add map"
// and "commit map" fill and switch to.
type MapVersion string

// PrepareMap is the command that creates a new, empty version of the map
// haproxy loaded from path; ParseMapVersion reads its answer.
func PrepareMap(path string) string { return "prepare map " + mastercli.Arg(path) }

// ParseMapVersion reads the version from the answer to PrepareMap.
func ParseMapVersion(answer string) (MapVersion, error) {
	var v string
	if _, err := fmt.Sscanf(strings.TrimSpace(answer), "New version created: %s", &v); err != nil {
		return "", fmt.Errorf("unexpected answer %q", answer)
	}
	return MapVersion(v), nil
}

// maxPayload bounds the payload of one command. haproxy reads a command
// and its payload into one buffer (tune.bufsize, 16 kB by default); haproxy
// 2.6.12 given a larger one through the master spins in the CLI applet and
// aborts the worker ("A bogus APPCTX ... is spinning").
const maxPayload = 8 << 10

// AddMap is the commands that load data, map file lines, into version v of
// the map loaded from path, each with a payload of whole lines of at most
// maxPayload bytes (a longer line gets a command of its own); empty data
// needs no command.
func AddMap(v MapVersion, path string, data []byte) []string {
	head := "add map @" + string(v) + " " + mastercli.Arg(path) + " <<\n"
	var cmds []string
	rest := strings.TrimRight(string(data), "\n")
	for rest != "" {
		end := len(rest)
		if end > maxPayload {
			if i := strings.LastIndexByte(rest[:maxPayload], '\n'); i > 0 {
				end = i
			} else if i := strings.IndexByte(rest, '\n'); i > 0 {
				end = i
			}
		}
		cmds = append(cmds, head+payload([]byte(rest[:end])))
		rest = strings.TrimLeft(rest[end:], "\n")
	}
	return cmds
}

// CommitMap is the command that makes version v the map's content.
func CommitMap(v MapVersion, path string) string {
	return "commit map @" + string(v) + " " + mastercli.Arg(path)
}

// payload ends a multi-line command: its lines, then the empty line that
// ends the payload.
func payload(data []byte) string { return strings.TrimRight(string(data), "\n") + "\n" }

// OK tells haproxy's success answers to the commands of this package apart
// from its errors: "set server" is silent or reports what changed (or that
// nothing had to); the ssl cert transaction reports its creation, then
// "Success!"; "prepare map" reports the new version; "add map" and "commit
// map" are silent.
func OK(answer string) bool {
	out := strings.TrimSpace(answer)
	return out == "" || strings.Contains(out, "changed from") || strings.HasPrefix(out, "no need to change") ||
		strings.HasPrefix(out, "Transaction created for certificate") || strings.HasPrefix(out, "Transaction updated for certificate") ||
		strings.HasSuffix(out, "Success!") || strings.HasPrefix(out, "New version created:")
}

// ShowStat is the command that lists the stats of backend's servers;
// ParseStat reads its answer.
func ShowStat(backend string) string { return "show stat " + backend + " 4 -1" }

// ParseStat reads the answer to ShowStat: server name → column → value.
func ParseStat(answer string) (map[string]map[string]string, error) {
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(strings.TrimSpace(answer), "# "))).ReadAll()
	if err != nil || len(rows) < 2 || !slices.Contains(rows[0], "svname") {
		return nil, fmt.Errorf("unexpected answer %q", answer)
	}
	stats := make(map[string]map[string]string, len(rows)-1)
	for _, r := range rows[1:] {
		st := make(map[string]string, len(r))
		for i, v := range r {
			st[rows[0][i]] = v
		}
		stats[st["svname"]] = st
	}
	return stats, nil
}

// ShowServersState dumps every server's state in the format of haproxy's
// server-state-file; KeepServersState filters its answer.
const ShowServersState = "show servers state"

// EmptyServersState is a server state file without servers, which haproxy
// loads silently (an empty file draws a warning).
const EmptyServersState = "1\n"

// KeepServersState is the server state file of the lines of dump, the
// answer to ShowServersState, that keep accepts by backend, server, address
// and port. The columns are found by the names the header gives them.
func KeepServersState(dump string, keep func(backend, server, addr string, port int) bool) ([]byte, error) {
	version, rest, _ := strings.Cut(strings.TrimLeft(dump, "\n"), "\n")
	header, lines, _ := strings.Cut(rest, "\n")
	if strings.TrimSpace(version) != "1" || !strings.HasPrefix(header, "# ") {
		return nil, fmt.Errorf("unexpected server state %q", firstLine(dump))
	}
	col := map[string]int{}
	for i, name := range strings.Fields(header[2:]) {
		col[name] = i
	}
	var at [4]int // backend, server, address, port
	for i, name := range []string{"be_name", "srv_name", "srv_addr", "srv_port"} {
		c, ok := col[name]
		if !ok {
			return nil, fmt.Errorf("server state without column %s", name)
		}
		at[i] = c
	}
	out := []byte(EmptyServersState + header + "\n")
	for line := range strings.Lines(lines) {
		f := strings.Fields(line)
		if len(f) <= slices.Max(at[:]) {
			continue
		}
		port, err := strconv.Atoi(f[at[3]])
		if err == nil && keep(f[at[0]], f[at[1]], f[at[2]], port) {
			out = append(out, strings.TrimRight(line, "\n")+"\n"...)
		}
	}
	return out, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
