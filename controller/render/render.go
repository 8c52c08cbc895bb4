// Package render writes a model as haproxy configuration files: numbered
// *.cfg files in the -f directory (haproxy loads them in byte order), map
// files for routing, and certificate bundles with their crt-list. It is
// pure: equal models give byte-equal sets.
package render

import (
	"path/filepath"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// File names inside the layout directories.
const (
	GlobalFile    = "00-global.cfg"
	DefaultsFile  = "10-defaults.cfg"
	FrontendsFile = "20-frontends.cfg"
	BackendsFile  = "30-backends.cfg"

	CrtListFile     = "crt-list.txt"
	DefaultCertFile = "default.pem"
)

// Render produces every file of the configuration of m placed in l.
func Render(m *model.Model, l files.Layout) files.Set { return (*Cache)(nil).Render(m, l) }

// Render is Render, writing again only what changed since the last Render
// with c; c may be nil.
func (c *Cache) Render(m *model.Model, l files.Layout) files.Set {
	if c != nil {
		c.gen++
		c.inPlace = c.routesInPlace(m.Routes)
	}
	ids := c.policyIDs(m.Routes)
	set := files.Set{
		{Path: filepath.Join(l.Etc, GlobalFile), Data: global(&m.Global, l)},
		{Path: filepath.Join(l.Etc, DefaultsFile), Data: defaults(&m.Global)},
		{Path: filepath.Join(l.Etc, FrontendsFile), Data: append(userlists(m.Userlists), c.frontends(m.Frontends, &m.Global, frontendPolicies(m, ids), l)...)},
		{Path: filepath.Join(l.Etc, BackendsFile), Data: c.backendSections(&m.Global, m.Backends, l)},
	}
	set = append(set, c.routeMaps(m, l, ids)...)
	set = append(set, hostRedirectMaps(m, l)...)
	set = append(set, certs(m, l)...)
	set = append(set, backendTLSFiles(m, l)...)
	set = append(set, tcpFiles(m, l)...)
	set = append(set, errorFiles(&m.Global, l)...)
	set = append(set, spares(m, l)...)
	set = append(set, blueGreenMaps(m, l)...)
	set.Sort()
	return set
}
