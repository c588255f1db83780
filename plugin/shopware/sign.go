package shopware

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/treue/treue/models"
)

// sign returns HMAC-SHA256(secret, msg), the MAC behind every Shopware signature header.
func sign(secret string, msg []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(msg)
	return m.Sum(nil)
}

// signHex is sign in the lower-case hex form Shopware puts in headers and proofs.
func signHex(secret string, msg []byte) string { return hex.EncodeToString(sign(secret, msg)) }

// checkSignature checks that header is the hex HMAC of msg, or of one of its alternative
// encodings alt, under one of secrets. Every candidate is compared with hmac.Equal on the
// decoded bytes, so timing does not reveal how much of a guess was right. Empty secrets are
// skipped: an HMAC keyed with nothing can be computed by anyone. The error names the reason and wraps
// models.ErrUnauthorized; it never contains a secret or a MAC.
func checkSignature(header string, msg []byte, secrets []string, alt ...[]byte) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return fmt.Errorf("signature header is missing: %w", models.ErrUnauthorized)
	}
	got, err := hex.DecodeString(header)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("signature is not a hex SHA-256 HMAC: %w", models.ErrUnauthorized)
	}
	msgs := append([][]byte{msg}, alt...)
	tried, ok := false, false
	for _, s := range secrets {
		if s == "" {
			continue
		}
		tried = true
		for _, m := range msgs {
			if hmac.Equal(got, sign(s, m)) {
				ok = true
			}
		}
	}
	switch {
	case !tried:
		return fmt.Errorf("no secret to verify with: %w", models.ErrUnauthorized)
	case !ok:
		return fmt.Errorf("signature does not match: %w", models.ErrUnauthorized)
	}
	return nil
}

// checkFresh refuses a signed timestamp outside ±tolerance of now, so that a captured
// request cannot be replayed later.
func checkFresh(ts, now time.Time, tolerance time.Duration) error {
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return fmt.Errorf("timestamp is more than %s away from now: %w", tolerance, models.ErrUnauthorized)
	}
	return nil
}
