package mastercli

import "strings"

// argEscaper escapes what the CLI's tokenizer splits on or unescapes:
// spaces end a word, ";" ends a command, "\" escapes the next character.
var argEscaper = strings.NewReplacer(`\`, `\\`, " ", `\ `, "\t", "\\\t", ";", `\;`)

// Arg makes s one word of a runtime API command, e.g. a map or certificate
// path under a --local-filesystem-prefix with spaces.
func Arg(s string) string { return argEscaper.Replace(s) }
