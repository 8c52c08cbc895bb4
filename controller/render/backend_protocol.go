package render

import (
	"path/filepath"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// backendTLSDir is where the client certificates and CA bundles of the
// backends live, relative to crt-base and ca-base; backend names are safe
// file names.
const backendTLSDir = "backends"

// upstream are the default-server options of how haproxy talks to the
// servers of backend name.
func upstream(name string, u *model.Upstream) []string {
	var words []string
	if u.TLS() {
		words = append(words, "ssl")
		if u.CA != nil {
			words = append(words, "verify", "required", "ca-file", quoteWord(backendTLSFile(name, "ca")))
		} else {
			words = append(words, "verify", "none")
		}
		if u.ClientCert != nil {
			words = append(words, "crt", quoteWord(backendTLSFile(name, "crt")))
		}
		if u.H2() {
			words = append(words, "alpn", "h2")
		}
	} else if u.H2() {
		words = append(words, "proto", "h2")
	}
	switch u.SNI {
	case "":
	case "sni":
		words = append(words, "sni", "ssl_fc_sni")
	case "host":
		words = append(words, "sni", "var(txn.host)")
	default:
		words = append(words, "sni", quoteWord("str("+u.SNI+")"))
	}
	return words
}

func backendTLSFile(backend, kind string) string {
	return filepath.Join(backendTLSDir, backend+"-"+kind+".pem")
}

// backendTLSFiles are the client certificates (private: they hold keys)
// and CA bundles of the backends.
func backendTLSFiles(m *model.Model, l files.Layout) files.Set {
	var set files.Set
	for _, be := range m.Backends {
		if u := be.Policy.Upstream; u.ClientCert != nil {
			set = append(set, files.File{Path: filepath.Join(l.Certs(), backendTLSFile(be.Name, "crt")), Data: u.ClientCert, Private: true})
		}
		if u := be.Policy.Upstream; u.CA != nil {
			set = append(set, files.File{Path: filepath.Join(l.Certs(), backendTLSFile(be.Name, "ca")), Data: u.CA})
		}
	}
	return set
}
