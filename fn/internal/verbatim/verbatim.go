// Package verbatim reads a YAML stream the way kio.ByteReader does and writes it back
// with every document that did not change exactly as it was read: its indentation,
// quoting, blank lines and comments. A document that changed keeps at least its
// sequence indentation. Re-encoding everything (kio.ByteWriter) would re-indent and
// re-quote objects a function never touched.
package verbatim

import (
	"bytes"
	"io"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Stream remembers the documents Read returned.
type Stream struct {
	docs map[*yaml.Node]doc // by the node Read returned
}

type doc struct {
	text     string // as read, ending in a newline
	rendered string // the node as encoded when read: unchanged while it encodes the same
}

// separator is kio.ByteReader's document separator, so that documents split alike.
var separator = regexp.MustCompile(`\n---.*\n`)

// Read returns the resources of r, as kio.ByteReader with OmitReaderAnnotations.
func Read(r io.Reader) ([]*yaml.RNode, *Stream, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, err
	}
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	var texts []string
	prev := 0
	for _, loc := range separator.FindAllStringIndex(s, -1) {
		texts = append(texts, s[prev:loc[0]]+"\n")
		prev = loc[1]
	}
	texts = append(texts, s[prev:])

	st := &Stream{docs: map[*yaml.Node]doc{}}
	var nodes []*yaml.RNode
	for _, text := range texts {
		// kio.ByteReader unwraps a List only when it is the whole input.
		got, err := (&kio.ByteReader{Reader: strings.NewReader(text), OmitReaderAnnotations: true,
			DisableUnwrapping: len(texts) > 1}).Read()
		if err != nil {
			return nil, nil, err
		}
		if len(got) == 1 {
			if !strings.HasSuffix(text, "\n") {
				text += "\n"
			}
			st.docs[got[0].YNode()] = doc{text: text, rendered: got[0].MustString()}
		}
		nodes = append(nodes, got...)
	}
	return nodes, st, nil
}

// Write writes nodes as a stream of documents: those Read returned and that encode
// as they did then, as read; the others encoded, with the sequence indentation of
// their original document when they have one.
func (s *Stream) Write(w io.Writer, nodes []*yaml.RNode) error {
	var out bytes.Buffer
	for i, n := range nodes {
		if i > 0 {
			out.WriteString("---\n")
		}
		d, read := s.docs[n.YNode()]
		if read && n.MustString() == d.rendered {
			out.WriteString(d.text)
			continue
		}
		n = n.Copy()
		if read {
			if style := yaml.DeriveSeqIndentStyle(d.text); style != "" {
				if err := n.PipeE(yaml.SetAnnotation(kioutil.SeqIndentAnnotation, style)); err != nil {
					return err
				}
			}
		}
		if err := (kio.ByteWriter{Writer: &out}).Write([]*yaml.RNode{n}); err != nil {
			return err
		}
	}
	_, err := w.Write(out.Bytes())
	return err
}
