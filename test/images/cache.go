package images

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/external-haproxy/kit/test/poll"
)

// lockWait bounds the wait for another build of the same dir: a cold one
// takes minutes (mmdebstrap, compiling haproxy), never this long.
const lockWait = 30 * time.Minute

// cached makes dir once: if it is missing, make fills a private temp dir
// beside it that is then renamed to dir, so a killed build never leaves a
// half-filled dir that a later call would trust. A flock on dir.lock makes
// parallel callers (test packages run in parallel) wait for the first one
// instead of building the same thing twice.
func cached(ctx context.Context, dir string, p *progress, make func(tmp string) error) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	said := false
	// Polled rather than a blocking flock, so that ctx can end the wait.
	err = poll.Every(ctx, lockWait, 500*time.Millisecond, func() (bool, error) {
		err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil || !errors.Is(err, syscall.EWOULDBLOCK) {
			return err == nil, err
		}
		if !said {
			p.say("another build of %s is running, waiting for it", dir)
			said = true
		}
		return false, nil
	}, func() string { return "another build still holds " + lock.Name() })
	if err != nil {
		return err
	}
	// Unlocked by lock.Close.
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	// Temp dirs are only made under the lock: any left is a killed build's.
	stale, _ := filepath.Glob(dir + ".tmp.*")
	for _, s := range stale {
		os.RemoveAll(s)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// mktemp makes it private; nothing here is secret.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := make(tmp); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// sourcesKey hashes the sources of the images: the main module's Go files in
// the packages of every `go build` of the Dockerfiles and of this builder,
// go.mod and go.sum (which pin every other module), the Go version and the
// Dockerfiles. Build takes it before its long steps, so that a file edited
// while they run makes the next call build again.
func sourcesKey(ctx context.Context, root string, recipes map[string]*recipe) (string, error) {
	h := sha256.New()
	add := func(label string, data []byte) {
		fmt.Fprintf(h, "%s %d\n", label, len(data))
		h.Write(data)
	}
	pkgs := []string{"./test/images"}
	for _, name := range slices.Sorted(maps.Keys(recipes)) {
		r := recipes[name]
		data, err := os.ReadFile(filepath.Join(root, r.dockerfile))
		if err != nil {
			return "", err
		}
		add(r.dockerfile, data)
		for _, b := range r.builds {
			pkgs = append(pkgs, b.pkgs...)
		}
	}
	goVersion, err := goOutput(ctx, root, nil, "env", "GOVERSION")
	if err != nil {
		return "", err
	}
	add("go", goVersion)
	// The target platform's file set, as the builds see it.
	list, err := goOutput(ctx, root, targetEnv, append([]string{"list", "-deps", "-f",
		`{{if and .Module .Module.Main}}{{.Dir}}{{range .GoFiles}}{{"\t"}}{{.}}{{end}}{{range .EmbedFiles}}{{"\t"}}{{.}}{{end}}{{end}}`}, pkgs...)...)
	if err != nil {
		return "", err
	}
	files := []string{"go.mod", "go.sum"}
	for line := range strings.Lines(string(list)) {
		f := strings.Split(strings.TrimSpace(line), "\t")
		for _, name := range f[1:] {
			rel, err := filepath.Rel(root, filepath.Join(f[0], name))
			if err != nil {
				return "", err
			}
			files = append(files, rel)
		}
	}
	slices.Sort(files)
	for _, f := range slices.Compact(files) {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return "", err
		}
		add(f, data)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

// imagesKey adds the Debian base's key and the haproxy 3.0 binary to the
// sources' key: together, everything the images are made of.
func imagesKey(sources, debianKey, haproxy30 string) (string, error) {
	data, err := os.ReadFile(haproxy30)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%x\n", sources, debianKey, sha256.Sum256(data))
	return fmt.Sprintf("%x", h.Sum(nil))[:12], nil
}

// targetEnv is the platform every image is for.
var targetEnv = []string{"GOOS=linux", "GOARCH=amd64"}

func goOutput(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return bytes.TrimSpace(out), nil
}

// progress writes "images: [12s] ..." lines, and repeats the current step
// every 20 s while it runs, so that minutes of silent compiling or
// compressing do not look like a hang (the house style of hack/k8s-bins.sh).
type progress struct {
	w     io.Writer
	start time.Time
	mu    sync.Mutex
	step  string
	done  chan struct{}
}

func newProgress(w io.Writer) *progress {
	if w == nil {
		w = io.Discard
	}
	p := &progress{w: w, start: time.Now(), done: make(chan struct{})}
	go func() {
		t := time.NewTicker(20 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				p.mu.Lock()
				if p.step != "" {
					fmt.Fprintf(p.w, "images: [%ds] still %s\n", p.elapsed(), p.step)
				}
				p.mu.Unlock()
			}
		}
	}()
	return p
}

func (p *progress) elapsed() int { return int(time.Since(p.start).Seconds()) }

// say prints a line; begin also makes it the step the ticker repeats.
func (p *progress) say(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "images: [%ds] %s\n", p.elapsed(), fmt.Sprintf(format, args...))
}

func (p *progress) begin(format string, args ...any) {
	p.say(format, args...)
	p.mu.Lock()
	p.step = fmt.Sprintf(format, args...)
	p.mu.Unlock()
}

func (p *progress) stop() { close(p.done) }

// lines returns a writer that prefixes every line written to it, for the
// output of the tools that Build runs.
func (p *progress) lines(prefix string) io.WriteCloser {
	r, w := io.Pipe()
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			p.say("%s%s", prefix, s.Text())
		}
		io.Copy(io.Discard, r)
	}()
	return w
}
