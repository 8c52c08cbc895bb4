package model

import (
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// maxBlueGreenGroups bounds blue-green-balance: a few deployments side by
// side, not a list per pod.
const maxBlueGreenGroups = 16

// blueGreenKeys weigh a backend's endpoints by their pods' labels.
var blueGreenKeys = []configKey{
	onBackend(newKey(KeyInfo{Name: "blue-green-balance", Aliases: []string{"blue-green-deploy"}, Scope: ScopeBackend, Reload: true,
		Accepts: "a comma-separated list of up to " + strconv.Itoa(maxBlueGreenGroups) + " label=value=weight, with a label name and value as Kubernetes allows them and a weight from 0 to " + strconv.Itoa(maxWeight),
		Doc: "weights the endpoints by the labels of their pods: those of a group get its weight (in blue-green-mode deploy, divided among its pods), the others 0 (no new requests); " +
			"a change of pods or labels goes through the runtime API"},
		parseBlueGreenGroups, func(g *Global) *[]BlueGreenGroup { return &g.BlueGreen.Groups }),
		func(p *BackendPolicy) *[]BlueGreenGroup { return &p.BlueGreen.Groups }),
	onBackend(newKey(KeyInfo{Name: "blue-green-mode", Scope: ScopeBackend, Default: "deploy", Reload: true, Accepts: "deploy or pod",
		Doc: "deploy: a group's share of the requests is its weight, whatever its number of pods; pod: every pod of a group gets the group's weight"},
		func(v string) (bool, bool) { return v == "pod", v == "pod" || v == "deploy" }, func(g *Global) *bool { return &g.BlueGreen.PerPod }),
		func(p *BackendPolicy) *bool { return &p.BlueGreen.PerPod }),
}

// parseBlueGreenGroups reads label=value=weight,...; empty: off.
func parseBlueGreenGroups(v string) ([]BlueGreenGroup, bool) {
	if v == "" {
		return nil, true
	}
	items := strings.Split(v, ",")
	if len(items) > maxBlueGreenGroups {
		return nil, false
	}
	var out []BlueGreenGroup
	for _, it := range items {
		f := strings.Split(strings.TrimSpace(it), "=")
		if len(f) != 3 || len(validation.IsQualifiedName(f[0])) > 0 || len(validation.IsValidLabelValue(f[1])) > 0 {
			return nil, false
		}
		w, err := strconv.Atoi(f[2])
		if err != nil || w < 0 || w > maxWeight {
			return nil, false
		}
		out = append(out, BlueGreenGroup{Label: f[0], Value: f[1], Weight: w})
	}
	return out, true
}
