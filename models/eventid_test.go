package models

import "testing"

func TestEventPublicID(t *testing.T) {
	if got := EventPublicID(42); got != "e-42" {
		t.Fatalf("EventPublicID(42) = %q", got)
	}
	if id, ok := ParseEventPublicID("e-42"); !ok || id != 42 {
		t.Fatalf("ParseEventPublicID(e-42) = %d, %v", id, ok)
	}
	for _, s := range []string{"", "e-", "42", "e-x", "e-042", "e--1", "e-0", "a-42", "e-+4"} {
		if id, ok := ParseEventPublicID(s); ok {
			t.Errorf("ParseEventPublicID(%q) = %d, true", s, id)
		}
	}
}
