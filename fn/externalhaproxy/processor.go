package externalhaproxy

import (
	"errors"

	validationErrors "k8s.io/kube-openapi/pkg/validation/errors"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
)

// Processor returns the function's ResourceListProcessor. It accepts only the
// ExternalHaproxy config and turns every failure into error results plus a returned
// error: orchestrators trust only the exit code, and kpt shows the results.
func Processor() framework.ResourceListProcessor {
	return framework.ResourceListProcessorFunc(func(rl *framework.ResourceList) error {
		p := framework.VersionedAPIProcessor{FilterProvider: framework.GVKFilterMap{
			Kind: {APIVersion: &ExternalHaproxy{}},
		}}
		if err := p.Process(rl); err != nil {
			rl.Results = append(rl.Results, toResults(err)...)
			return rl.Results
		}
		return nil
	})
}

// toResults unpacks the error results carried by err, including those that the
// framework wrapped into a CompositeError after Validate.
func toResults(err error) framework.Results {
	var re resultsError
	if errors.As(err, &re) {
		return re.results
	}
	var ce *validationErrors.CompositeError
	if errors.As(err, &ce) {
		var rs framework.Results
		for _, e := range ce.Errors {
			rs = append(rs, toResults(e)...)
		}
		return rs
	}
	return framework.Results{{Severity: framework.Error, Message: err.Error()}}
}
