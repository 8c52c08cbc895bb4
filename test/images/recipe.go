package images

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// A recipe is what one of the project's Dockerfiles says about its image. The
// Dockerfile stays the single source of truth: it is read with BuildKit's own
// parser (the one `docker build` uses), so JSON and shell forms, line
// continuations and ENV syntax mean what they mean to Docker. Only two things
// are replaced: the build stage by a local `go build` of the same command
// line, and the final stage's FROM by a locally built base.
//
// Anything this builder cannot reproduce faithfully (another instruction, a
// RUN other than `apk add`, variable expansion, COPY --chown) is an error,
// so a changed Dockerfile never builds into a silently different image.
type recipe struct {
	dockerfile string     // path relative to the repository root
	toolchain  string     // build stage's FROM, e.g. golang:1.26
	base       string     // final stage's FROM
	builds     []goBuild  // the build stage's `go build` commands
	copies     []copyFile // the final stage's COPY --from=build
	apk        []string   // packages of the final stage's `RUN apk add`
	// config applies the final stage's USER, ENTRYPOINT, CMD, ENV, WORKDIR,
	// ... onto the base image's config, in Dockerfile order.
	config []func(*v1.Config)
}

// goBuild is one `RUN [NAME=VALUE...] go build ARGS` of the build stage.
type goBuild struct {
	env  []string // the NAME=VALUE words before `go`
	args []string // after `go build`, -o's value excluded
	out  string   // -o's value: the binary's path inside the build stage
	pkgs []string // the package arguments (what the key hashes)
}

// copyFile is one file of a COPY --from=build: src in the build stage, dest
// resolved the way Docker resolves it (a trailing slash means a directory).
type copyFile struct{ src, dest string }

func parseDockerfile(root, rel string) (*recipe, error) {
	f, err := os.Open(path.Join(root, rel))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	if len(metaArgs) > 0 || len(stages) != 2 || stages[0].Name != "build" || !strings.HasPrefix(stages[0].BaseName, "golang:") {
		return nil, fmt.Errorf("%s: want exactly a `FROM golang:... AS build` stage and a final stage, no ARG", rel)
	}
	r := &recipe{dockerfile: rel, toolchain: stages[0].BaseName, base: stages[1].BaseName}
	lex := shell.NewLex(res.EscapeToken)
	for _, c := range stages[0].Commands {
		if err := r.buildStage(lex, c); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", rel, c, err)
		}
	}
	workdir, cmdSet := "/", false
	for _, c := range stages[1].Commands {
		if _, ok := c.(instructions.SupportsSingleWordExpansion); ok && strings.Contains(fmt.Sprint(c), "$") {
			return nil, fmt.Errorf("%s: %s: variable expansion is not supported here", rel, c)
		}
		if err := r.finalStage(lex, c, &workdir, &cmdSet); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", rel, c, err)
		}
	}
	return r, nil
}

// buildStage keeps the stage's `go build` lines. Its WORKDIR and COPY only
// bring the sources in, and `go mod download` only fills the module cache:
// the local checkout and module cache stand for both.
func (r *recipe) buildStage(lex *shell.Lex, c instructions.Command) error {
	switch c := c.(type) {
	case *instructions.WorkdirCommand, *instructions.CopyCommand:
		return nil
	case *instructions.RunCommand:
		words, err := runWords(lex, c)
		if err != nil {
			return err
		}
		var env []string
		for len(words) > 0 && strings.Contains(words[0], "=") {
			env, words = append(env, words[0]), words[1:]
		}
		switch {
		case slices.Equal(words, []string{"go", "mod", "download"}):
			return nil
		case len(words) > 2 && words[0] == "go" && words[1] == "build":
			b := goBuild{env: env}
			for i := 2; i < len(words); i++ {
				w := words[i]
				switch {
				case w == "-o" && i+1 < len(words):
					i++
					b.out = words[i]
				case strings.HasPrefix(w, "-o="):
					b.out = strings.TrimPrefix(w, "-o=")
				case strings.HasPrefix(w, "-"):
					b.args = append(b.args, w)
				default:
					b.args = append(b.args, w)
					b.pkgs = append(b.pkgs, w)
				}
			}
			if b.out == "" || len(b.pkgs) != 1 {
				return fmt.Errorf("want `go build ... -o FILE PACKAGE`")
			}
			r.builds = append(r.builds, b)
			return nil
		}
	}
	return fmt.Errorf("not supported in the build stage")
}

func (r *recipe) finalStage(lex *shell.Lex, c instructions.Command, workdir *string, cmdSet *bool) error {
	switch c := c.(type) {
	case *instructions.UserCommand:
		r.set(func(cfg *v1.Config) { cfg.User = c.User })
	case *instructions.EntrypointCommand:
		args := cmdLine(c.ShellDependantCmdLine)
		reset := !*cmdSet // as in Docker: ENTRYPOINT drops a CMD inherited from the base
		r.set(func(cfg *v1.Config) {
			cfg.Entrypoint = args
			if reset {
				cfg.Cmd = nil
			}
		})
	case *instructions.CmdCommand:
		args := cmdLine(c.ShellDependantCmdLine)
		*cmdSet = true
		r.set(func(cfg *v1.Config) { cfg.Cmd = args })
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			r.set(func(cfg *v1.Config) { cfg.Env = setEnv(cfg.Env, kv.Key, kv.Value) })
		}
	case *instructions.WorkdirCommand:
		*workdir = path.Join(*workdir, c.Path) // Join keeps an absolute c.Path
		wd := *workdir
		r.set(func(cfg *v1.Config) { cfg.WorkingDir = wd })
	case *instructions.StopSignalCommand:
		r.set(func(cfg *v1.Config) { cfg.StopSignal = c.Signal })
	case *instructions.LabelCommand:
		for _, kv := range c.Labels {
			r.set(func(cfg *v1.Config) {
				if cfg.Labels == nil {
					cfg.Labels = map[string]string{}
				}
				cfg.Labels[kv.Key] = kv.Value
			})
		}
	case *instructions.ExposeCommand:
		for _, p := range c.Ports {
			if !strings.Contains(p, "/") {
				p += "/tcp"
			}
			r.set(func(cfg *v1.Config) {
				if cfg.ExposedPorts == nil {
					cfg.ExposedPorts = map[string]struct{}{}
				}
				cfg.ExposedPorts[p] = struct{}{}
			})
		}
	case *instructions.CopyCommand:
		if c.From != "build" || c.Chown != "" || c.Chmod != "" || len(c.SourceContents) > 0 || c.Parents || len(c.ExcludePatterns) > 0 {
			return fmt.Errorf("only COPY --from=build FILE... DEST is supported")
		}
		dest, intoDir := c.DestPath, strings.HasSuffix(c.DestPath, "/") || len(c.SourcePaths) > 1
		if !path.IsAbs(dest) {
			dest = path.Join(*workdir, dest)
		}
		for _, src := range c.SourcePaths {
			d := dest
			if intoDir {
				d = path.Join(dest, path.Base(src))
			}
			r.copies = append(r.copies, copyFile{src: path.Clean(src), dest: path.Clean(d)})
		}
	case *instructions.RunCommand:
		words, err := runWords(lex, c)
		if err != nil {
			return err
		}
		if len(words) < 3 || words[0] != "apk" || words[1] != "add" {
			return fmt.Errorf("only `RUN apk add [--no-cache] PACKAGE...` is supported in the final stage")
		}
		for _, w := range words[2:] {
			if w == "--no-cache" {
				continue
			}
			if strings.HasPrefix(w, "-") {
				return fmt.Errorf("apk option %s is not supported", w)
			}
			r.apk = append(r.apk, w)
		}
	default:
		return fmt.Errorf("not supported in the final stage")
	}
	return nil
}

func (r *recipe) set(f func(*v1.Config)) { r.config = append(r.config, f) }

// runWords splits a RUN command into words; a shell-form RUN is split the
// way Docker's shell lexer splits it (quotes, escapes), with no expansion
// since no build argument is defined.
func runWords(lex *shell.Lex, c *instructions.RunCommand) ([]string, error) {
	if len(c.FlagsUsed) > 0 || len(c.Files) > 0 {
		return nil, fmt.Errorf("RUN flags and heredocs are not supported")
	}
	if !c.PrependShell {
		return c.CmdLine, nil
	}
	line := strings.Join(c.CmdLine, " ")
	if strings.ContainsAny(line, "$;&|<>`") {
		return nil, fmt.Errorf("only a plain command is supported (no expansion, lists or redirections)")
	}
	return lex.ProcessWords(line, shell.EnvsFromSlice(nil))
}

// cmdLine is the argv an ENTRYPOINT or CMD gives the image: the JSON form as
// it is, the shell form wrapped in Docker's default shell.
func cmdLine(c instructions.ShellDependantCmdLine) []string {
	if c.PrependShell {
		return []string{"/bin/sh", "-c", strings.Join(c.CmdLine, " ")}
	}
	return slices.Clone(c.CmdLine)
}

// setEnv sets key in place, as Docker does, or appends it.
func setEnv(env []string, key, value string) []string {
	env = slices.Clone(env)
	for i, e := range env {
		if strings.HasPrefix(e, key+"=") {
			env[i] = key + "=" + value
			return env
		}
	}
	return append(env, key+"="+value)
}
