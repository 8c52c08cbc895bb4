package e2eenv

import (
	"context"
	"io"
	"sync"

	"github.com/external-haproxy/kit/test/cluster"
	"github.com/external-haproxy/kit/test/images"
)

// The locally built images the pod runs (see test/images).
const (
	ControllerImage = images.Controller
	EchoImage       = images.Echo
)

// HaproxyVersions are the haproxy versions with an image, the default first.
var HaproxyVersions = []string{"2.6.12", "3.0.11"}

// HaproxyImage is the image of a haproxy version.
func HaproxyImage(version string) string { return "kit.local/haproxy:" + version }

var built struct {
	once sync.Once
	dir  string
	err  error
}

// NodeOptions is the node the pod needs: labelled for the base's
// nodeSelector, with the images of the pod (haproxy of the given version,
// default HaproxyVersion) and of the echo backends. The images are built
// once per process (and cached across runs).
func NodeOptions(ctx context.Context, haproxy string, progress io.Writer) (cluster.NodeOptions, error) {
	if haproxy == "" {
		haproxy = HaproxyVersion()
	}
	built.once.Do(func() { built.dir, built.err = images.Build(ctx, progress) })
	if built.err != nil {
		return cluster.NodeOptions{}, built.err
	}
	var files []string
	for _, name := range []string{images.Pause, images.Echo, images.Controller, HaproxyImage(haproxy)} {
		files = append(files, images.File(built.dir, name))
	}
	return cluster.NodeOptions{
		Labels:     map[string]string{"role": "ingress-controller"},
		Images:     files,
		PauseImage: images.Pause,
	}, nil
}
