package model

// LogVars and TCPLogVars are the log-format variables the model accepts,
// for the haproxy check of them.
var LogVars, TCPLogVars = httpLogFormat.vars, tcpLogFormat.vars
