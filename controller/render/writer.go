package render

import (
	"strconv"
	"strings"
)

// cfg is the text of one config file, shared by every section: headers at
// the margin, their lines indented, a blank line between sections.
type cfg struct{ strings.Builder }

// section starts a section such as "backend be_a".
func (c *cfg) section(words ...string) {
	if c.Len() > 0 {
		c.WriteByte('\n')
	}
	c.words(words)
	c.WriteByte('\n')
}

// line appends one indented line of the current section.
func (c *cfg) line(parts ...string) {
	c.WriteString("    ")
	c.words(parts)
	c.WriteByte('\n')
}

func (c *cfg) words(ws []string) {
	for i, w := range ws {
		if i > 0 {
			c.WriteByte(' ')
		}
		c.WriteString(w)
	}
}

func (c *cfg) bytes() []byte { return []byte(c.String()) }

func itoa(n int) string { return strconv.Itoa(n) }

// quoteWord makes s one word of haproxy's config parser. Inside single
// quotes nothing is interpreted (no escapes, no "${VAR}"); a quote in s
// closes them, adds an escaped quote and opens them again.
func quoteWord(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// argEscaper escapes for the double quotes of a sample argument.
var argEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// quoteArg makes s one argument of a sample fetch or converter: the
// argument parser ends an argument at "," or ")" unless it is quoted, and
// its quotes must themselves get past the top-level parser as a word.
func quoteArg(s string) string {
	return quoteWord(`"` + argEscaper.Replace(s) + `"`)
}

// PathForms are the texts that stand for path p in the rendered files: p
// itself and its escaped forms inside the quotes of quoteWord and quoteArg,
// for a checker that moves the files and rewrites the paths in them.
func PathForms(p string) []string {
	w, a := quoteWord(p), quoteArg(p)
	return []string{p, w[1 : len(w)-1], a[2 : len(a)-2]}
}
