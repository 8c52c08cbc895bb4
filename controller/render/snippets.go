package render

import "github.com/external-haproxy/kit/controller/model"

// pasteSnippet pastes the lines of a config-* key into the current section; the
// model checked that none of them starts another section.
func pasteSnippet(c *cfg, lines model.Snippet) {
	for _, l := range lines {
		c.line(l)
	}
}
