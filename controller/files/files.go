// Package files describes the set of files one haproxy configuration consists
// of and where they live. Render produces a Set; only the driver writes it.
package files

import (
	"path/filepath"
	"sort"

	"github.com/external-haproxy/kit/internal/podlayout"
)

// Layout holds the three directories shared between controller and haproxy.
type Layout struct {
	Etc string // -f directory: *.cfg files, maps/ below it
	Lib string // certificates and other state, crt/ below it
	Run string // unix sockets
}

// DefaultLayout is the in-container layout, optionally moved under prefix
// (--local-filesystem-prefix) so that everything runs unprivileged locally.
func DefaultLayout(prefix string) Layout {
	return Layout{
		Etc: filepath.Join("/", prefix, podlayout.ConfigDir),
		Lib: filepath.Join("/", prefix, podlayout.StateDir),
		Run: filepath.Join("/", prefix, podlayout.RunDir),
	}
}

// Maps is the directory of map and list files; haproxy -f ignores subdirectories.
func (l Layout) Maps() string { return filepath.Join(l.Etc, "maps") }

// Certs is the directory of PEM bundles and crt-lists.
func (l Layout) Certs() string { return filepath.Join(l.Lib, "crt") }

// ServerState is the file that carries the servers' states over a reload
// (load-server-state): the driver writes it right before the reload and
// empties it once haproxy read it.
func (l Layout) ServerState() string { return filepath.Join(l.Lib, "server-state") }

// MasterSocket is the master CLI socket of haproxy -W -S.
func (l Layout) MasterSocket() string { return filepath.Join(l.Run, podlayout.MasterSocketName) }

// AdminSocket is the worker's runtime API socket (stats socket).
func (l Layout) AdminSocket() string { return filepath.Join(l.Run, podlayout.AdminSocketName) }

// File is one file of a configuration, addressed by absolute path.
type File struct {
	Path    string
	Data    []byte
	Private bool // private keys: written 0600
}

// Set is a whole configuration, sorted by path.
type Set []File

// Sort orders the set by path so that equal inputs give equal sets.
func (s Set) Sort() { sort.Slice(s, func(i, j int) bool { return s[i].Path < s[j].Path }) }
