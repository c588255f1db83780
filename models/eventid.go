package models

import (
	"strconv"
	"strings"
)

// EventPublicID is how the API, the console and the export name a stored
// event: "e-" and its row id.
func EventPublicID(id int64) string { return "e-" + strconv.FormatInt(id, 10) }

// ParseEventPublicID reverses EventPublicID; ok is false for anything it
// did not write.
func ParseEventPublicID(s string) (id int64, ok bool) {
	rest, found := strings.CutPrefix(s, "e-")
	if !found {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || id <= 0 || EventPublicID(id) != s {
		return 0, false
	}
	return id, true
}
