package security

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestSealer_RoundTrip(t *testing.T) {
	s, err := NewSealer(strings.Repeat("k", 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal([]byte("whsec_secret"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "whsec") {
		t.Fatal("sealed value shows the secret")
	}
	got, err := s.Open(sealed)
	if err != nil || string(got) != "whsec_secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other, _ := NewSealer(strings.Repeat("x", 32))
	if _, err := other.Open(sealed); err == nil {
		t.Fatal("a different key must not open the value")
	}
}

func TestNewSealer_ErrShortKey(t *testing.T) {
	if _, err := NewSealer("short"); err == nil {
		t.Fatal("want error")
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "treue.key")
	k1, created, err := LoadOrCreateKeyFile(p)
	if err != nil || !created || len(k1) != 64 {
		t.Fatalf("create: %q %v %v", k1, created, err)
	}
	k2, created, err := LoadOrCreateKeyFile(p)
	if err != nil || created || k2 != k1 {
		t.Fatalf("reload: %q %v %v", k2, created, err)
	}
}
