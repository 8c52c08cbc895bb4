package model

import (
	"regexp"
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
	selectorKey("blue-green-header", "header", "HeaderName", func(bg *BlueGreen) *BlueGreenSelector { return &bg.Header }),
	selectorKey("blue-green-cookie", "cookie", "CookieName", func(bg *BlueGreen) *BlueGreenSelector { return &bg.Cookie }),
}

// selectorKey is blue-green-header or -cookie, on field of BlueGreen;
// syntax names its first part as upstream does.
func selectorKey(name, what, syntax string, field func(*BlueGreen) *BlueGreenSelector) configKey {
	return onBackend(newKey(KeyInfo{Name: name, Scope: ScopeBackend, Reload: true,
		Accepts: syntax + ":LabelName, the " + what + " name of up to 63 letters, digits, '.', '_' or '-' (a letter or digit at both ends), " +
			"the label name as Kubernetes allows it",
		Doc: "a request whose " + what + " names a value of the label goes to the first up server whose pod has it, past the balance " +
			"(upstream calls it a testing aid); with both, the header decides first and they must name one label; a change of pods or labels goes through the runtime API"},
		parseSelector, func(g *Global) *BlueGreenSelector { return field(&g.BlueGreen) }),
		func(p *BackendPolicy) *BlueGreenSelector { return field(&p.BlueGreen) })
}

// selectorNameRe is a header or cookie name of blue-green-header or
// -cookie, as upstream defines them: it lands in req.hdr() and req.cook().
var selectorNameRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$`)

// parseSelector reads Name:Label; empty: off.
func parseSelector(v string) (BlueGreenSelector, bool) {
	if v == "" {
		return BlueGreenSelector{}, true
	}
	name, label, ok := strings.Cut(v, ":")
	if !ok || !selectorNameRe.MatchString(name) || len(validation.IsQualifiedName(label)) > 0 {
		return BlueGreenSelector{}, false
	}
	return BlueGreenSelector{name, label}, true
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
