package haproxy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/haproxy/filestore"
)

// The loaded marker records the digest of the file set haproxy last loaded
// (or holds through runtime commands it confirmed). It lives in Run, beside the sockets,
// hidden so haproxy never reads it, and lets a restarted controller skip the
// reload when the disk still matches.
const loadedMarker = ".loaded-config.sha256"

func (d *Driver) markerPath() string { return filepath.Join(d.opts.Layout.Run, loadedMarker) }

func digest(set files.Set) []byte {
	h := sha256.New()
	for _, f := range set {
		h.Write([]byte(f.Path))
		h.Write([]byte{0})
		h.Write(f.Data)
		h.Write([]byte{0})
	}
	return []byte(hex.EncodeToString(h.Sum(nil)))
}

func (d *Driver) loadedMarkerMatches(set files.Set) bool {
	b, err := os.ReadFile(d.markerPath())
	return err == nil && bytes.Equal(b, digest(set))
}

// writeLoadedMarker is best effort: without it the next controller reloads once.
func (d *Driver) writeLoadedMarker(set files.Set) {
	_ = filestore.WriteAtomic(files.File{Path: d.markerPath(), Data: digest(set), Private: true})
}

// removeLoadedMarker needs no fsync: the marker only matters while haproxy
// keeps running across a controller crash, and then the kernel keeps the
// removal; a node crash takes haproxy down too, and a fresh haproxy loads
// the files, which is what the marker would claim anyway.
func (d *Driver) removeLoadedMarker() error {
	if err := os.Remove(d.markerPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
