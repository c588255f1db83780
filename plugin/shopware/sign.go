package shopware

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
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

// checkSignature reports whether header is the hex HMAC of one of msgs under one of
// secrets. Every candidate is compared with hmac.Equal on the decoded bytes, so timing does
// not reveal how much of a guess was right. Empty secrets are skipped: an HMAC keyed with
// nothing can be computed by anyone. The error names the reason and wraps
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

// decodeError classifies a json.Unmarshal error: a body that is not JSON (or not an
// object) is a *models.MalformedError; a value of the wrong type is a
// *models.ValidationError naming the field, prefixed with where the decoded part sits.
func decodeError(err error, prefix string) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		var v models.ValidationError
		v.Add(prefix+typeErr.Field, "must be %s, not a JSON %s", jsonKind(typeErr.Type), typeErr.Value)
		return &v
	}
	if errors.As(err, &typeErr) {
		if prefix != "" { // a part of a decodable body has the wrong shape
			var v models.ValidationError
			v.Add(strings.TrimSuffix(prefix, "."), "must be an object, not a JSON %s", typeErr.Value)
			return &v
		}
		err = fmt.Errorf("expected a JSON object, got a JSON %s", typeErr.Value)
	}
	return &models.MalformedError{Err: err}
}

// jsonKind names the JSON type that a Go type is decoded from, for error messages.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	default:
		return "a number"
	}
}
