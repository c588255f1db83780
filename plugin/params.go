package plugin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// PromoCode is the promo code for an action: the same on every retry, and not
// guessable from the idempotency key without the shop's secret.
func PromoCode(prefix, secret, idempotencyKey string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(idempotencyKey))
	return prefix + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil))[:10]
}

// Permanentf is a failure no retry will fix.
func Permanentf(format string, args ...any) *Error {
	return &Error{Kind: Permanent, Err: fmt.Errorf(format, args...)}
}

// StringParam reads an action parameter as text; numbers are formatted,
// absent is "".
func StringParam(p map[string]any, key string) string {
	switch v := p[key].(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}

// IntParam reads a whole-number parameter from YAML (int), JSON (float64,
// json.Number) or text.
func IntParam(p map[string]any, key string) (int64, bool) {
	s := StringParam(p, key)
	if s == "" {
		return 0, false
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) >= 1<<53 {
		return 0, false
	}
	return int64(f), true
}
