package render

import (
	"path/filepath"
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
	set := files.Set{{Path: filepath.Join(dir, DefaultCertFile), Data: m.DefaultCert.PEM, Private: true}}
	var list strings.Builder
	for _, c := range m.Certs {
		file := filepath.Join(dir, c.Name+".pem")
		set = append(set, files.File{Path: file, Data: c.PEM, Private: true})
		list.WriteString(file)
		for _, h := range c.Hosts {
			list.WriteByte(' ')
			list.WriteString(h)
		}
		list.WriteByte('\n')
	}
	return append(set, files.File{Path: filepath.Join(dir, CrtListFile), Data: []byte(list.String())})
}
