package model

// For the tests that run haproxy on rendered configurations: they import
// render, which imports model, so they live in package model_test.
var (
	CheckRegexPath  = checkRegexPath
	AcceptedRegexes = acceptedRegexes
)
