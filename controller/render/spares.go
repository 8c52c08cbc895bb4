package render

import (
	"bytes"
	"path/filepath"
	"strings"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// SparesFile lists the spare backends and whom they serve, one
// "<spare> [<backend>]" per line. haproxy reads only *.cfg files of the
// directory; a restarted controller reads this one (see model.Resume).
const SparesFile = "spares.txt"

// SparesPath is where SparesFile lives in l.
func SparesPath(l files.Layout) string { return filepath.Join(l.Etc, SparesFile) }

func spares(m *model.Model, l files.Layout) []files.File {
	layout := m.SpareLayout()
	if len(layout) == 0 {
		return nil
	}
	var b bytes.Buffer
	for _, s := range layout {
		b.WriteString(strings.TrimSpace(s.Name + " " + s.For))
		b.WriteByte('\n')
	}
	return []files.File{{Path: SparesPath(l), Data: b.Bytes()}}
}

// ParseSpares reads what spares wrote; lines it cannot read are skipped,
// which only costs a reload.
func ParseSpares(data []byte) []model.Spare {
	var out []model.Spare
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		switch len(f) {
		case 1:
			out = append(out, model.Spare{Name: f[0]})
		case 2:
			out = append(out, model.Spare{Name: f[0], For: f[1]})
		}
	}
	return out
}
