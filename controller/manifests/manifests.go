// Package manifests reads Kubernetes YAML manifests into typed objects, for
// tests and for rendering a configuration offline.
package manifests

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
)

// Objects are the objects a configuration is built from, in input order.
type Objects struct {
	Ingresses      []*networkingv1.Ingress
	IngressClasses []*networkingv1.IngressClass
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	Secrets        []*corev1.Secret
	ConfigMaps     []*corev1.ConfigMap
}

// LoadPaths reads files, and the *.yaml / *.yml / *.json files of
// directories (not recursively, in name order).
func LoadPaths(paths ...string) (*Objects, error) {
	objs := &Objects{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		names := []string{p}
		if fi.IsDir() {
			entries, err := os.ReadDir(p)
			if err != nil {
				return nil, err
			}
			names = names[:0]
			for _, e := range entries {
				switch filepath.Ext(e.Name()) {
				case ".yaml", ".yml", ".json":
					if !e.IsDir() {
						names = append(names, filepath.Join(p, e.Name()))
					}
				}
			}
			sort.Strings(names)
		}
		for _, n := range names {
			if err := objs.loadFile(n); err != nil {
				return nil, err
			}
		}
	}
	return objs, nil
}

func (o *Objects) loadFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := o.Decode(f); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Decode adds the objects of a multi-document YAML or JSON stream. List
// kinds are expanded; kinds not used by the controller are skipped.
func (o *Objects) Decode(r io.Reader) error {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	decoder := scheme.Codecs.UniversalDeserializer()
	for i := 1; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(doc)) == 0 || isComment(doc) {
			continue
		}
		obj, _, err := decoder.Decode(doc, nil, nil)
		if err != nil {
			return fmt.Errorf("document %d: %w", i, err)
		}
		if err := o.add(obj, decoder); err != nil {
			return fmt.Errorf("document %d: %w", i, err)
		}
	}
}

func isComment(doc []byte) bool {
	for _, l := range strings.Split(string(doc), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}

func (o *Objects) add(obj runtime.Object, decoder runtime.Decoder) error {
	switch t := obj.(type) {
	case *networkingv1.Ingress:
		o.Ingresses = append(o.Ingresses, t)
	case *networkingv1.IngressClass:
		o.IngressClasses = append(o.IngressClasses, t)
	case *corev1.Service:
		o.Services = append(o.Services, t)
	case *discoveryv1.EndpointSlice:
		o.EndpointSlices = append(o.EndpointSlices, t)
	case *corev1.Secret:
		// The API server folds stringData into data; do the same so that
		// hand-written manifests behave like stored objects.
		for k, v := range t.StringData {
			if t.Data == nil {
				t.Data = map[string][]byte{}
			}
			t.Data[k] = []byte(v)
		}
		t.StringData = nil
		o.Secrets = append(o.Secrets, t)
	case *corev1.ConfigMap:
		o.ConfigMaps = append(o.ConfigMaps, t)
	case *corev1.List:
		for _, item := range t.Items {
			inner, _, err := decoder.Decode(item.Raw, nil, nil)
			if err != nil {
				return err
			}
			if err := o.add(inner, decoder); err != nil {
				return err
			}
		}
	}
	return nil
}
