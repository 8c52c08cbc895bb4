package render

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// certs writes the PEM bundles (private: they hold keys) and the crt-list
// that selects them by SNI. The default certificate is the bind's first
// "crt", which haproxy serves when no SNI filter matches.
func certs(m *model.Model, l files.Layout) files.Set {
	if m.DefaultCert == nil {
		return nil
	}
	dir := l.Certs()
	set := files.Set{{Path: CertPath(l, m.DefaultCert.Name), Data: m.DefaultCert.PEM, Private: true}}
	var list strings.Builder
	own := ownLines(m.TLSHosts)
	for _, c := range m.Certs {
		set = append(set, files.File{Path: CertPath(l, c.Name), Data: c.PEM, Private: true})
		hosts := slices.DeleteFunc(slices.Clone(c.Hosts), func(h string) bool { return own[h] })
		if len(c.Hosts) > 0 && len(hosts) == 0 {
			continue // every host has a line of its own
		}
		// Relative to crt-base: a crt-list line has no quoting for a path
		// with spaces, and names are DNS subdomains.
		list.WriteString(c.Name + ".pem")
		for _, h := range hosts {
			list.WriteByte(' ')
			list.WriteString(h)
		}
		list.WriteByte('\n')
	}
	set = append(set, tlsHostLines(m, l, &list)...)
	return append(set, files.File{Path: filepath.Join(dir, CrtListFile), Data: []byte(list.String())})
}

// CertPath is where the bundle of the certificate called name lives; haproxy
// knows a loaded certificate by this path in its runtime API too.
func CertPath(l files.Layout, name string) string {
	return filepath.Join(l.Certs(), name+".pem")
}
