package render

import (
	"strings"
	"testing"

	"github.com/external-haproxy/kit/controller/files"
	"github.com/external-haproxy/kit/controller/model"
)

// snippet is one feature case of a section: how it changes the base
// settings, the lines it must render (whole lines, indentation aside) and
// the line starts it must not.
type snippet struct {
	name   string
	set    func(g *model.Global) // nil: the base settings
	want   []string
	absent []string
}

// checkLines reports the wanted lines missing from text and the lines of
// text that start with an absent prefix.
func checkLines(t *testing.T, text []byte, want, absent []string) {
	t.Helper()
	have := map[string]bool{}
	lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
		have[lines[i]] = true
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("missing line %q in:\n%s", w, text)
		}
	}
	for _, a := range absent {
		for _, l := range lines {
			if strings.HasPrefix(l, a) {
				t.Errorf("unexpected line %q in:\n%s", l, text)
			}
		}
	}
}

// runSnippets renders each case's section with render and checks it.
func runSnippets(t *testing.T, base model.Global, cases []snippet, render func(g *model.Global) []byte) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := base
			if tc.set != nil {
				tc.set(&g)
			}
			checkLines(t, render(&g), tc.want, tc.absent)
		})
	}
}

// TestQuotedPaths renders a layout whose directory holds a space and a
// quote: every path must stay one word (or one sample argument) of
// haproxy's parser.
func TestQuotedPaths(t *testing.T) {
	l := files.DefaultLayout(`o'dd dir`)
	g := model.Global{TimeoutStop: 1000}
	checkLines(t, global(&g, l), []string{
		`stats socket '/o'\''dd dir/var/run/haproxy/admin.sock' mode 600 level admin expose-fd listeners`,
		`crt-base '/o'\''dd dir/var/lib/haproxy/crt'`,
	}, nil)
	fs := []model.Frontend{{Kind: model.FrontendHTTPS, Port: 443}}
	checkLines(t, frontends(fs, &g, policies{}, l), []string{
		`bind :443 ssl crt '/o'\''dd dir/var/lib/haproxy/crt/default.pem' crt-list '/o'\''dd dir/var/lib/haproxy/crt/crt-list.txt' alpn h2,http/1.1 ca-ignore-err all crt-ignore-err all`,
		`http-request set-var(txn.route) var(txn.hostpath),map_str('"/o'\''dd dir/etc/haproxy/maps/https-exact.map"')`,
	}, nil)
}

// backends renders backend sections in the default layout.
func backends(g *model.Global, bes []model.Backend) []byte {
	return backendSections(g, bes, files.DefaultLayout(""))
}
