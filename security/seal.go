// Package security seals secrets at rest and manages the key that does it.
package security

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sealer encrypts small secrets with AES-256-GCM, so that a database dump
// alone does not reveal shop secrets or API credentials.
type Sealer struct {
	aead cipher.AEAD
}

const sealPrefix = "v1:"

// NewSealer derives a 256-bit key from key material: any string of at least
// 32 characters (a generated key file holds 64 random hex characters).
func NewSealer(key string) (*Sealer, error) {
	key = strings.TrimSpace(key)
	if len(key) < 32 {
		return nil, errors.New("security: secret key must be at least 32 characters")
	}
	// Hashing lets operators use any long random string; the key is not a password,
	// so no slow KDF is needed.
	k := sha256.Sum256([]byte(key))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, fmt.Errorf("security: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("security: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext into a printable string.
func (s *Sealer) Seal(plaintext []byte) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("security: nonce: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, plaintext, nil)
	return sealPrefix + base64.StdEncoding.EncodeToString(out), nil
}

// Open decrypts what Seal produced.
func (s *Sealer) Open(sealed string) ([]byte, error) {
	raw, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return nil, errors.New("security: not a sealed value")
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(b) < s.aead.NonceSize() {
		return nil, errors.New("security: corrupt sealed value")
	}
	n := s.aead.NonceSize()
	pt, err := s.aead.Open(nil, b[:n], b[n:], nil)
	if err != nil {
		return nil, errors.New("security: cannot decrypt: wrong security.secret_key?")
	}
	return pt, nil
}

// LoadOrCreateKeyFile reads the key in path, creating it with a fresh random
// key (mode 0600) when it does not exist. created reports a new file.
func LoadOrCreateKeyFile(path string) (key string, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("security: read key file: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", false, fmt.Errorf("security: generate key: %w", err)
	}
	key = fmt.Sprintf("%x", raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("security: key dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // another process won the race; use its key
			return LoadOrCreateKeyFile(path)
		}
		return "", false, fmt.Errorf("security: create key file: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(key + "\n"); err != nil {
		return "", false, fmt.Errorf("security: write key file: %w", err)
	}
	return key, true, f.Sync()
}
