package model

// For the tests that run haproxy on rendered configurations: they import
// render, which imports model, so they live in package model_test.
var (
	CheckRegexPath  = checkRegexPath
	AcceptedRegexes = acceptedRegexes
)

// Equal is the deep equality Diff compares models with.
var Equal = equal

// OwnKey tells whether a patch can take a change of the key name: it lands
// in the routes and backends of the Ingress that sets it alone.
func OwnKey(name string) bool { return ownKeys(layer{name: setting{}}) }
