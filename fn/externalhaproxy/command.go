package externalhaproxy

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/external-haproxy/kit/fn/internal/verbatim"
)

// Command runs the Processor. Without arguments it reads and writes a ResourceList
// (kustomize, kpt). With arguments (standalone) the first is the config file and the
// others are input files, "-" standing for stdin; the output is the plain stream of
// resources, in which the documents the function did not change come out exactly as
// they came in. Errors, and on success the warnings, go to stderr one per line:
// kustomize shows stderr but not results.
func Command() *cobra.Command {
	return &cobra.Command{
		Args:          cobra.ArbitraryArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			var rl *framework.ResourceList
			p := framework.ResourceListProcessorFunc(func(l *framework.ResourceList) error {
				rl = l
				return Processor().Process(l)
			})
			var err error
			if len(args) == 0 {
				err = framework.Execute(p, &kio.ByteReadWriter{
					Reader: cmd.InOrStdin(), Writer: cmd.OutOrStdout(), KeepReaderAnnotations: true})
			} else {
				err = standalone(p, args, cmd.InOrStdin(), cmd.OutOrStdout())
			}
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return err
			}
			if rl != nil {
				for _, r := range rl.Results {
					if r.Severity == framework.Warning {
						fmt.Fprintln(cmd.ErrOrStderr(), r)
					}
				}
			}
			return nil
		},
	}
}

// standalone is framework.Execute for a config file and input files, writing through
// verbatim. Like Execute it writes the items also on error: a pipeline never loses them.
func standalone(p framework.ResourceListProcessor, args []string, stdin io.Reader, out io.Writer) error {
	b, err := os.ReadFile(args[0])
	if err != nil {
		return fmt.Errorf("unable to read configuration file %q: %w", args[0], err)
	}
	config, err := yaml.Parse(string(b))
	if err != nil {
		return fmt.Errorf("unable to parse configuration file %q: %w", args[0], err)
	}
	var inputs []io.Reader
	for _, a := range args[1:] {
		if a == "-" {
			inputs = append([]io.Reader{stdin}, inputs...) // stdin first, as kyaml's command does
			continue
		}
		f, err := os.Open(a)
		if err != nil {
			return fmt.Errorf("unable to read input file %s: %w", a, err)
		}
		defer f.Close()
		inputs = append(inputs, f)
	}
	items, stream, err := verbatim.Read(io.MultiReader(inputs...))
	if err != nil {
		return fmt.Errorf("failed to read input: %w", err)
	}
	rl := &framework.ResourceList{Items: items, FunctionConfig: config}
	err = p.Process(rl)
	if werr := stream.Write(out, rl.Items); werr != nil {
		return werr
	}
	return err
}
