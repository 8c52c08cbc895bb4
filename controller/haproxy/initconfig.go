package haproxy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/haproxy/filestore"
)

// InitConfigName is the placeholder haproxy starts with before the controller
// writes the real config. It is an ordinary Etc/*.cfg, so the first Update
// removes it like any other *.cfg that is not part of the set.
const InitConfigName = "00-init.cfg"

// initConfig has timeouts (to silence haproxy's warnings) and no listener and
// no /healthz: the pod must not look ready before the real config is loaded.
const initConfig = `# Placeholder written by --init; replaced by the controller's first update.
global
    log stderr format raw local0 notice
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
`

// WriteInitConfig writes the placeholder haproxy -f <Etc> starts with, unless
// Etc already has a *.cfg: an init container re-run on a pod whose volumes
// survived would otherwise add the placeholder's defaults next to the real
// config. It creates only Etc: the init container mounts nothing else and
// runs on a read-only root filesystem.
func WriteInitConfig(layout files.Layout) error {
	for _, dir := range []string{layout.Etc} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(layout.Etc)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".cfg") && !strings.HasPrefix(e.Name(), ".") {
			return nil
		}
	}
	return filestore.WriteAtomic(files.File{Path: filepath.Join(layout.Etc, InitConfigName), Data: []byte(initConfig)})
}
