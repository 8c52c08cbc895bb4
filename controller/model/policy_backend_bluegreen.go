package model

import "math"

// BlueGreen splits a backend's requests between groups of its pods by their
// labels (blue-green-balance): each endpoint whose pod carries a group's
// label gets that group's weight, the others none (they keep their
// affinity sessions but take no new requests).
type BlueGreen struct {
	Groups []BlueGreenGroup // empty: off
	// PerPod (blue-green-mode pod): every pod of a group gets the group's
	// weight, so a group's share grows with its pods. Else (deploy) the
	// weights are divided by the group's pod count, so the groups' shares
	// are as configured whatever their sizes.
	PerPod bool
	// Header and Cookie (blue-green-header, blue-green-cookie) send a
	// request that names a group to the first up server of that group,
	// past the balance: the header's group first, then the cookie's.
	// Both read one label (effective drops a cookie of another).
	Header, Cookie BlueGreenSelector
}

// BlueGreenSelector is the "Name:Label" of blue-green-header or -cookie:
// the request header or cookie Name holds a value of the pods' label Label.
type BlueGreenSelector struct{ Name, Label string }

// SelectorLabel is the pod label whose value is a server's Group; "" when
// no selector is set.
func (bg BlueGreen) SelectorLabel() string {
	if bg.Header.Label != "" {
		return bg.Header.Label
	}
	return bg.Cookie.Label
}

// effective drops a cookie selector that reads another label than the
// header's: a server has one group, as upstream requires.
func (bg BlueGreen) effective(src sources, report func(Problem)) BlueGreen {
	if bg.Header.Label != "" && bg.Cookie.Label != "" && bg.Header.Label != bg.Cookie.Label {
		reportOn(src, "blue-green-cookie", "label "+quoteValue(bg.Cookie.Label)+" differs from blue-green-header's "+
			quoteValue(bg.Header.Label)+"; the cookie is not used", report)
		bg.Cookie = BlueGreenSelector{}
	}
	return bg
}

// BlueGreenGroup is one label=value=weight of blue-green-balance.
type BlueGreenGroup struct {
	Label, Value string
	Weight       int // 0 to maxWeight
}

// maxWeight is haproxy's largest server weight.
const maxWeight = 256

// weights gives each endpoint, by its pod's labels (nil: no pod known),
// its weight; initial is the backend's base weight (initial-weight), the
// weight of the smallest share in deploy mode as long as the largest fits
// in maxWeight.
func (bg BlueGreen) weights(pods []map[string]string, initial int) []int {
	group := make([]int, len(pods)) // index into Groups, -1: none
	size := make([]int, len(bg.Groups))
	for i, labels := range pods {
		group[i] = -1
		for g, gr := range bg.Groups {
			if v, ok := labels[gr.Label]; ok && v == gr.Value {
				group[i] = g // the last matching group wins, as upstream
			}
		}
		if group[i] >= 0 {
			size[group[i]]++
		}
	}
	per := make([]float64, len(bg.Groups)) // each pod's weight, before scaling
	lo, hi := math.Inf(1), 0.0
	for g, gr := range bg.Groups {
		per[g] = float64(gr.Weight)
		if !bg.PerPod && size[g] > 0 {
			per[g] /= float64(size[g])
		}
		if size[g] > 0 && per[g] > 0 {
			lo, hi = min(lo, per[g]), max(hi, per[g])
		}
	}
	scale := 1.0
	if !bg.PerPod && hi > 0 {
		scale = float64(initial) / lo
		scale = min(scale, maxWeight/hi)
	}
	out := make([]int, len(pods))
	for i, g := range group {
		if g < 0 || bg.Groups[g].Weight == 0 {
			continue
		}
		out[i] = min(max(int(math.Round(per[g]*scale)), 1), maxWeight)
	}
	return out
}
