package model

// LogVars are the log-format variables the model accepts, for the haproxy
// check of them.
var LogVars = logVars
