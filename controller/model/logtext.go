package model

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// logText is s as it may stand in a log line or an Event: unchanged when
// it is valid UTF-8 of printable characters, else Go-quoted, so that a
// value from the cluster can neither forge a line of its own nor hide in
// control or bidi characters.
func logText(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	return strconv.Quote(s)
}

// LogText is logText for the commands that print values from the cluster
// to a terminal.
func LogText(s string) string { return logText(s) }
