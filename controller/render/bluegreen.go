package render

import (
	"bytes"
	"path/filepath"
	"strings"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// blueGreenMapPrefix starts the name of a backend's map of server slot →
// blue-green group, which the runtime API replaces when pods change.
const blueGreenMapPrefix = "bluegreen_"

func blueGreenMapPath(l files.Layout, backend string) string {
	return filepath.Join(l.Maps(), blueGreenMapPrefix+backend+".map")
}

// blueGreenSelectors sends a request whose header, then cookie, names a
// group to the first up slot of that group (blue-green-header, -cookie).
// A slot's group is in the backend's map, so that new endpoints and
// relabeled pods change it without a reload; use-server takes a fixed
// server name, hence one rule per slot and selector.
func blueGreenSelectors(c *cfg, be *model.Backend, l files.Layout) {
	bg := be.Policy.BlueGreen
	if bg.SelectorLabel() == "" {
		return
	}
	path := quoteArg(blueGreenMapPath(l, be.Name))
	for _, sel := range []struct {
		model.BlueGreenSelector
		fetch string
	}{{bg.Header, "req.hdr"}, {bg.Cookie, "req.cook"}} {
		if sel.Name == "" {
			continue
		}
		// The selector name is letters, digits, ".", "_" and "-" (see
		// model.parseSelector): nothing that ends an argument.
		v := "txn.bluegreen_" + strings.TrimPrefix(sel.fetch, "req.")
		c.line("http-request set-var(" + v + ") " + sel.fetch + "(" + sel.Name + ")")
		for i := range be.Servers {
			s := be.Servers[i].Name
			c.line("use-server", s, "if { srv_is_up("+s+") } { str("+s+"),map("+path+"),strcmp("+v+") eq 0 }")
		}
	}
}

// blueGreenMaps are the slot → group maps of the backends with a selector.
func blueGreenMaps(m *model.Model, l files.Layout) []files.File {
	var out []files.File
	for i := range m.Backends {
		be := &m.Backends[i]
		if be.Policy.BlueGreen.SelectorLabel() == "" {
			continue
		}
		var b bytes.Buffer
		for _, s := range be.Servers {
			if s.Enabled && s.Group != "" {
				b.WriteString(s.Name + " " + s.Group + "\n")
			}
		}
		out = append(out, files.File{Path: blueGreenMapPath(l, be.Name), Data: b.Bytes()})
	}
	return out
}

// BlueGreenMapChanges lists the slot → group maps whose content differs
// between two rendered sets, for replacement at run time.
func BlueGreenMapChanges(old, cur files.Set, l files.Layout) []files.File {
	prefix := filepath.Join(l.Maps(), blueGreenMapPrefix)
	before := map[string][]byte{}
	for _, f := range old {
		if strings.HasPrefix(f.Path, prefix) {
			before[f.Path] = f.Data
		}
	}
	var changed []files.File
	for _, f := range cur {
		if data, ok := before[f.Path]; strings.HasPrefix(f.Path, prefix) && (!ok || !bytes.Equal(data, f.Data)) {
			changed = append(changed, f)
		}
	}
	return changed
}
