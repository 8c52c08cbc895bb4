package deps
import (
 _ "sigs.k8s.io/kustomize/kyaml/fn/framework"
 _ "sigs.k8s.io/kustomize/kyaml/fn/framework/command"
 _ "sigs.k8s.io/kustomize/kyaml/fn/framework/frameworktestutil"
 _ "sigs.k8s.io/kustomize/api/krusty"
 _ "k8s.io/client-go/kubernetes"
 _ "k8s.io/client-go/tools/leaderelection"
 _ "k8s.io/api/networking/v1"
 _ "k8s.io/klog/v2"
 _ "github.com/prometheus/client_golang/prometheus"
 _ "sigs.k8s.io/yaml"
)
