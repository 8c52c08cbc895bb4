package verbatim_test

import (
	"bytes"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/external-haproxy/kit/fn/internal/verbatim"
)

const stream = `---
# A leading separator, a comment, wide lists, flow lists, quotes and a blank line.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: "reader"
rules:
  - apiGroups: [""]
    resources: [pods,   secrets]

  - verbs:
      - get
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  timeout: '50s'   # odd spacing
`

func TestUnchangedStreamIsWrittenAsRead(t *testing.T) {
	nodes, s, err := verbatim.Read(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 2 {
		t.Fatalf("%d nodes", len(nodes))
	}
	var out bytes.Buffer
	if err := s.Write(&out, nodes); err != nil {
		t.Fatal(err)
	}
	if out.String() != stream {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), stream)
	}
}

func TestChangedDocumentKeepsItsListIndentation(t *testing.T) {
	nodes, s, err := verbatim.Read(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].SetLabels(map[string]string{"team": "edge"}); err != nil {
		t.Fatal(err)
	}
	added := yaml.MustParse("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: edge\n")
	var out bytes.Buffer
	if err := s.Write(&out, append(nodes, added)); err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(out.String(), "---\n")
	if len(docs) != 3 || !strings.Contains(docs[0], "team: edge") || !strings.Contains(docs[0], "\n  - apiGroups:") {
		t.Fatalf("changed document:\n%s", out.String())
	}
	if want := strings.Split(stream, "---\n")[2]; docs[1] != want {
		t.Errorf("unchanged document:\n%s\nwant:\n%s", docs[1], want)
	}
	if docs[2] != "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: edge\n" {
		t.Errorf("new document:\n%s", docs[2])
	}
}
