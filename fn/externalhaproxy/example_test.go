package externalhaproxy_test

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/external-haproxy/kit/fn/externalhaproxy"
)

// pipe runs steps on a pod spec and prints it with what the report recorded.
func pipe(pod string, steps ...func(*externalhaproxy.Report) yaml.Filter) {
	node := yaml.MustParse(pod)
	r := &externalhaproxy.Report{}
	for _, s := range steps {
		if err := node.PipeE(s(r)); err != nil {
			fmt.Println("error:", err)
			return
		}
	}
	fmt.Print(node.MustString())
	for _, n := range r.Notes() {
		fmt.Println("note:", n)
	}
	for _, f := range r.Findings {
		fmt.Printf("%s: %s: %s\n", f.Severity, f.Field, f.Message)
	}
}

func ExampleSelect() {
	items, _ := kio.ParseAll(`
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: public, labels: {tier: public}}
spec: {template: {spec: {containers: [{name: haproxy-ingress}]}}}
`, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: echoserver, labels: {tier: public}}
spec: {template: {spec: {containers: [{name: echoserver}]}}}
`)
	// Without a name or selector, having the controller container is what makes a target.
	targets, _ := externalhaproxy.Select{Controller: "haproxy-ingress"}.Filter(items)
	for _, t := range targets {
		fmt.Println(t.GetKind(), t.GetName())
	}
	// With one, a match without it is an error.
	_, err := externalhaproxy.Select{
		Selector:   labels.SelectorFromSet(labels.Set{"tier": "public"}),
		Controller: "haproxy-ingress",
	}.Filter(items)
	fmt.Println(err)
	// Output:
	// DaemonSet public
	// [error] apps/v1/Deployment/echoserver spec.template.spec.containers[name=haproxy-ingress]: controller container "haproxy-ingress" not found
}

func ExampleDetectVolumes() {
	chart := yaml.MustParse(`
containers:
- name: haproxy-ingress
  volumeMounts:
  - {name: scratch, mountPath: /etc/haproxy, subPath: etc}
  - {name: scratch, mountPath: /var/run/haproxy, subPath: run}
`)
	dirs := []string{"/etc/haproxy", "/var/lib/haproxy", "/var/run/haproxy"}
	v := externalhaproxy.DetectVolumes(chart, externalhaproxy.Volumes{}, dirs, []string{"haproxy-ingress"}, nil)
	fmt.Println(v.Layout, v.Name)

	fresh := yaml.MustParse(`containers: [{name: haproxy-ingress}]`)
	v = externalhaproxy.DetectVolumes(fresh, externalhaproxy.Volumes{}, dirs, []string{"haproxy-ingress"}, nil)
	fmt.Println(v.Layout)
	// Output:
	// subPaths scratch
	// emptyDirs
}

func ExampleCheckMounts() {
	pipe(`
containers:
- name: haproxy-ingress
  volumeMounts: [{name: config, mountPath: /etc/haproxy}]
volumes:
- {name: etc, hostPath: {path: /etc/haproxy}}
`, func(r *externalhaproxy.Report) yaml.Filter {
		return externalhaproxy.CheckMounts{
			Volumes: externalhaproxy.Volumes{Layout: externalhaproxy.LayoutEmptyDirs},
			Mounts: []externalhaproxy.ContainerMounts{{Container: "haproxy-ingress",
				Mounts: []externalhaproxy.Mount{{Volume: "etc", MountPath: "/etc/haproxy"}}}},
			Report: r,
		}
	})
	// Output:
	// containers:
	// - name: haproxy-ingress
	//   volumeMounts: [{name: config, mountPath: /etc/haproxy}]
	// volumes:
	// - {name: etc, hostPath: {path: /etc/haproxy}}
	// error: volumes[name=etc]: volume "etc" is needed as an emptyDir for the haproxy directories (spec.volumes.layout: emptyDirs) but is hostPath
	// error: containers[name=haproxy-ingress].volumeMounts[mountPath=/etc/haproxy]: /etc/haproxy is mounted from volume "config", but the external-haproxy form needs volume "etc" (spec.volumes.layout: emptyDirs)
}

func ExampleEmptyDirs() {
	pipe(`volumes: [{name: etc, emptyDir: {}}]`, func(r *externalhaproxy.Report) yaml.Filter {
		return externalhaproxy.EmptyDirs{Names: []string{"etc", "lib"}, Report: r}
	})
	// Output:
	// volumes: [{name: etc, emptyDir: {}}, {name: lib, emptyDir: {}}]
	// note: added emptyDir volumes lib
}

func ExampleEnsureMounts() {
	pipe(`
containers:
- name: haproxy-ingress
  volumeMounts:
  - {name: scratch, mountPath: /etc/haproxy, subPath: etc}
`, func(r *externalhaproxy.Report) yaml.Filter {
		return externalhaproxy.EnsureMounts{Container: "haproxy-ingress", Report: r, Mounts: []externalhaproxy.Mount{
			{Volume: "scratch", SubPath: "etc", MountPath: "/etc/haproxy"},
			{Volume: "scratch", SubPath: "run", MountPath: "/var/run/haproxy"},
		}}
	})
	// Output:
	// containers:
	// - name: haproxy-ingress
	//   volumeMounts:
	//   - {name: scratch, mountPath: /etc/haproxy, subPath: etc}
	//   - name: scratch
	//     mountPath: /var/run/haproxy
	//     subPath: run
	// note: mounted /var/run/haproxy in haproxy-ingress
}

func ExampleMasterSocketArg() {
	pipe(`
containers:
- name: haproxy-ingress
  args: [--configmap=ingress/haproxy-ingress, --master-socket, /tmp/old.sock, --sort-backends]
`, func(r *externalhaproxy.Report) yaml.Filter {
		return externalhaproxy.MasterSocketArg{Container: "haproxy-ingress", Socket: "/var/run/haproxy/master.sock", Report: r}
	})
	// Output:
	// containers:
	// - name: haproxy-ingress
	//   args: [--configmap=ingress/haproxy-ingress, --master-socket=/var/run/haproxy/master.sock, --sort-backends]
	// note: set --master-socket=/var/run/haproxy/master.sock of haproxy-ingress (was --master-socket /tmp/old.sock)
}

// The controller keeps only its own port; a port haproxy already has is not repeated.
func ExampleMovePorts() {
	pipe(`
containers:
- name: haproxy-ingress
  ports:
  - {name: http, containerPort: 80}
  - {name: stats, containerPort: 1936}
  - {name: ingress-stats, containerPort: 10254}
- name: haproxy
  ports:
  - {name: stat, containerPort: 1936}
`, func(r *externalhaproxy.Report) yaml.Filter {
		return externalhaproxy.MovePorts{From: "haproxy-ingress", To: "haproxy", Keep: 10254, Report: r}
	})
	// Output:
	// containers:
	// - name: haproxy-ingress
	//   ports:
	//   - {name: ingress-stats, containerPort: 10254}
	// - name: haproxy
	//   ports:
	//   - {name: stat, containerPort: 1936}
	//   - {name: http, containerPort: 80}
	// note: moved ports http from haproxy-ingress to haproxy
	// note: dropped ports stats of haproxy-ingress, which haproxy has
}

// A probe of a haproxy port, by number or by name, moves; one of the controller's own stays.
func ExampleMoveProbes() {
	pipe(`
containers:
- name: haproxy-ingress
  ports: [{name: healthz, containerPort: 10253}]
  livenessProbe: {httpGet: {path: /healthz, port: healthz}}
  readinessProbe: {httpGet: {path: /readyz, port: 10254}}
- name: haproxy
`, func(r *externalhaproxy.Report) yaml.Filter {
		return externalhaproxy.MoveProbes{From: "haproxy-ingress", To: "haproxy", Keep: 10254, Report: r}
	})
	// Output:
	// containers:
	// - name: haproxy-ingress
	//   ports: [{name: healthz, containerPort: 10253}]
	//   readinessProbe: {httpGet: {path: /readyz, port: 10254}}
	// - name: haproxy
	//   livenessProbe: {httpGet: {path: /healthz, port: healthz}}
	// note: moved livenessProbe from haproxy-ingress to haproxy
}

func ExamplePlaceSidecar() {
	pipe(`
containers: [{name: haproxy-ingress}, {name: haproxy, image: haproxy:3.2.4-alpine}]
initContainers: [{name: haproxy-ingress-init}]
`, func(r *externalhaproxy.Report) yaml.Filter {
		return externalhaproxy.PlaceSidecar{Name: "haproxy", Native: true, After: "haproxy-ingress-init", Report: r}
	})
	// Output:
	// containers: [{name: haproxy-ingress}]
	// initContainers: [{name: haproxy-ingress-init}, {name: haproxy, image: 'haproxy:3.2.4-alpine', restartPolicy: Always}]
	// note: moved container haproxy to initContainers
}

func ExampleHaproxyArgs() {
	pipe(`containers: [{name: haproxy, args: [-f, /etc/haproxy, -S, "/var/run/haproxy/master.sock,mode,660", -dW]}]`,
		func(r *externalhaproxy.Report) yaml.Filter {
			return externalhaproxy.HaproxyArgs{Container: "haproxy", Socket: "/var/run/haproxy/master.sock", SocketOptions: "mode,600",
				ConfigDir: "/etc/haproxy", Report: r}
		})
	// Output:
	// containers: [{name: haproxy, args: [-W, -S, '/var/run/haproxy/master.sock,mode,660', -f, /etc/haproxy, -dW]}]
	// note: set the args of haproxy keeping -dW
}

// The config's value wins and the conflict is reported; without one the input's value
// stays; without either the default is added.
func ExampleSetFields() {
	image := "haproxy:3.0.23-alpine"
	imageField, _ := externalhaproxy.ExplicitField("image", "spec.haproxy.image", &image)
	resources, _ := externalhaproxy.ExplicitField("resources", "spec.haproxy.resources", (*corev1.ResourceRequirements)(nil))
	resources.Default = yaml.MustParse(`{requests: {cpu: 100m}}`)
	probe, _ := externalhaproxy.ExplicitField("livenessProbe", "spec.haproxy.livenessProbe", (*corev1.Probe)(nil))
	pipe(`containers: [{name: haproxy, image: haproxy:3.2.4-alpine, livenessProbe: {tcpSocket: {port: 80}}}]`,
		func(r *externalhaproxy.Report) yaml.Filter {
			return externalhaproxy.SetFields{Container: "haproxy", Fields: []externalhaproxy.Field{imageField, resources, probe}, Report: r}
		})
	// Output:
	// containers: [{name: haproxy, image: 'haproxy:3.0.23-alpine', livenessProbe: {tcpSocket: {port: 80}}, resources: {requests: {cpu: 100m}}}]
	// note: added resources to haproxy
	// note: kept the input's livenessProbe of haproxy
	// warning: containers[name=haproxy].image: spec.haproxy.image "haproxy:3.0.23-alpine" replaces the input's image "haproxy:3.2.4-alpine" of container haproxy
}

func ExamplePinnedImage() {
	pipe(`initContainers: [{name: haproxy-ingress-init, image: quay.io/jcmoraisjr/haproxy-ingress}]`,
		func(r *externalhaproxy.Report) yaml.Filter {
			return externalhaproxy.PinnedImage{Container: "haproxy-ingress-init", Setting: "spec.init.image", Report: r}
		})
	// Output:
	// initContainers: [{name: haproxy-ingress-init, image: quay.io/jcmoraisjr/haproxy-ingress}]
	// warning: initContainers[name=haproxy-ingress-init].image: image "quay.io/jcmoraisjr/haproxy-ingress" of container haproxy-ingress-init has no tag or digest: pin it with spec.init.image or a kustomize images: entry
}

func ExamplePlaceInit() {
	pipe(`containers: [{name: haproxy-ingress}]`,
		func(r *externalhaproxy.Report) yaml.Filter {
			return externalhaproxy.PlaceInit{Name: "haproxy-ingress-init", Report: r}
		},
		func(r *externalhaproxy.Report) yaml.Filter {
			return externalhaproxy.InitArgs{Container: "haproxy-ingress-init", Report: r}
		})
	// Output:
	// containers: [{name: haproxy-ingress}]
	// initContainers:
	// - name: haproxy-ingress-init
	//   args:
	//   - --init
	// note: added init container haproxy-ingress-init
}

// Upstream's v0.12 example patch calls its init container "init".
func ExampleAdoptInit() {
	pipe(`initContainers: [{name: init, image: quay.io/jcmoraisjr/haproxy-ingress:v0.12, args: [--init]}]`,
		func(r *externalhaproxy.Report) yaml.Filter {
			return externalhaproxy.AdoptInit{Name: "haproxy-ingress-init", Report: r}
		})
	// Output:
	// initContainers: [{name: haproxy-ingress-init, image: 'quay.io/jcmoraisjr/haproxy-ingress:v0.12', args: [--init]}]
	// note: renamed init container init to haproxy-ingress-init
}

func ExampleRemoveInit() {
	pipe(`
containers: [{name: haproxy-ingress}]
initContainers: [{name: init, args: [--init]}, {name: wait-for-db}]
`, func(r *externalhaproxy.Report) yaml.Filter {
		return externalhaproxy.RemoveInit{Name: "haproxy-ingress-init", Report: r}
	})
	// Output:
	// containers: [{name: haproxy-ingress}]
	// initContainers: [{name: wait-for-db}]
	// note: removed init container init
}

func ExampleRemoveContainer() {
	pipe(`
containers: [{name: haproxy-ingress}]
initContainers: [{name: haproxy, restartPolicy: Always}]
`, func(r *externalhaproxy.Report) yaml.Filter {
		return externalhaproxy.RemoveContainer{Name: "haproxy", Report: r}
	})
	// Output:
	// containers: [{name: haproxy-ingress}]
	// note: removed container haproxy from initContainers
}

// The whole function: the config's Filter pipes the steps above over every target.
func ExampleExternalHaproxy_Filter() {
	items, _ := kio.ParseAll(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: haproxy-ingress}
spec:
  template:
    spec:
      containers:
      - name: haproxy-ingress
        image: quay.io/jcmoraisjr/haproxy-ingress:v0.16.1
        ports: [{name: http, containerPort: 80}]
`)
	c := &externalhaproxy.ExternalHaproxy{}
	_ = c.Default()
	// As kyaml's framework has it, results that are not errors come back as the error.
	_, results := c.Filter(items)
	for _, line := range strings.Split(results.Error(), "; ") {
		fmt.Println(line)
	}
	// Output:
	// [info] apps/v1/Deployment/haproxy-ingress spec.template.spec: external form: added emptyDir volumes etc, lib, run
	// added --master-socket=/var/run/haproxy/master.sock to haproxy-ingress
	// mounted /etc/haproxy, /var/lib/haproxy, /var/run/haproxy in haproxy-ingress
	// added init container haproxy-ingress-init
	// added container haproxy to containers
	// moved ports http from haproxy-ingress to haproxy
}
