package handlers

import "testing"

// TestBearerToken: the scheme is matched in any case (RFC 9110, 11.1);
// anything else is no bearer token.
func TestBearerToken(t *testing.T) {
	for h, want := range map[string]string{
		"Bearer tok-1": "tok-1", "bearer tok-1": "tok-1", "BEARER tok-1": "tok-1", "bEaReR tok-1": "tok-1",
		"Bearer   tok-1 ": "tok-1", " Bearer tok-1": "tok-1",
	} {
		if got, ok := bearerToken(h); !ok || got != want {
			t.Errorf("bearerToken(%q) = %q, %v; want %q", h, got, ok, want)
		}
	}
	for _, h := range []string{"", "Bearer", "Bearer ", "Bearer    ", "Basic dXNlcjpwdw==", "Bearertok-1", "Token tok-1"} {
		if got, ok := bearerToken(h); ok {
			t.Errorf("bearerToken(%q) = %q, want none", h, got)
		}
	}
}
