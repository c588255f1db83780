// Package standard receives Standard Webhooks (standardwebhooks.com) whose body
// is Treue's canonical journey event. Treue's Magento module and any custom
// shop send this format.
package standard

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	json "github.com/go-json-experiment/json/v1"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

// Receiver verifies and parses Standard Webhooks deliveries.
type Receiver struct {
	// Tolerance bounds how far webhook-timestamp may be from now (default 5 min).
	Tolerance time.Duration
}

var _ plugin.Receiver = (*Receiver)(nil)

// New returns a receiver with the given timestamp tolerance.
func New(tolerance time.Duration) *Receiver { return &Receiver{Tolerance: tolerance} }

// Platform implements plugin.Receiver.
func (*Receiver) Platform() models.Platform { return models.PlatformStandard }

// Identify implements plugin.Receiver: the shop is named in the path.
func (*Receiver) Identify(d *plugin.Delivery) (plugin.ShopRef, error) {
	if d.ShopKey == "" {
		return plugin.ShopRef{}, fmt.Errorf("standard: no shop in path: %w", models.ErrUnauthorized)
	}
	return plugin.ShopRef{Key: d.ShopKey}, nil
}

// header reads a Standard Webhooks header, falling back to Svix's older names.
func header(h http.Header, name string) string {
	if v := h.Get("webhook-" + name); v != "" {
		return v
	}
	return h.Get("svix-" + name)
}

// Verify implements plugin.Receiver: HMAC-SHA256 over "id.timestamp.body" with
// the shop's secrets; any v1 entry of the space-separated list may match. A
// stored secret that DecodeSecret refuses (empty, not base64, too short) is
// skipped rather than used: HMAC keyed by "" or a few bytes is forgeable. A
// shop left with no usable secret accepts nothing.
func (r *Receiver) Verify(_ context.Context, d *plugin.Delivery, shop *models.Shop, now time.Time) error {
	id, ts, sigs := header(d.Header, "id"), header(d.Header, "timestamp"), header(d.Header, "signature")
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("standard: missing webhook-id, webhook-timestamp or webhook-signature: %w", models.ErrUnauthorized)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("standard: webhook-timestamp is not unix seconds: %w", models.ErrUnauthorized)
	}
	tol := r.Tolerance
	if tol <= 0 {
		tol = 5 * time.Minute
	}
	if age := now.Sub(time.Unix(sec, 0)); age > tol || age < -tol {
		return fmt.Errorf("standard: webhook-timestamp outside tolerance: %w", models.ErrUnauthorized)
	}
	usable := 0
	for _, secret := range shop.Secrets.ActiveWebhookSecrets(now) {
		key, err := DecodeSecret(secret)
		if err != nil {
			continue
		}
		usable++
		want := Sign(key, id, sec, d.Body)
		for _, s := range strings.Fields(sigs) {
			version, sig, ok := strings.Cut(s, ",")
			if !ok || version != "v1" {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(sig)
			if err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	if usable == 0 {
		return fmt.Errorf("standard: shop %s has no usable secret: %w", shop.Key, models.ErrUnauthorized)
	}
	return fmt.Errorf("standard: no matching signature: %w", models.ErrUnauthorized)
}

// The key lengths the Standard Webhooks spec asks for (192 to 512 bits).
const (
	MinKeyBytes = 24
	MaxKeyBytes = 64
)

// SecretFormat says what a usable secret looks like and how to make one; it
// ends every error of DecodeSecret, so that whoever reads one can fix it.
const SecretFormat = "a Standard Webhooks secret is whsec_ followed by base64 of 24–64 random bytes; " +
	"generate one with: echo whsec_$(head -c 32 /dev/urandom | base64)"

// DecodeSecret turns a Standard Webhooks secret into the HMAC key the way the
// reference libraries (standard-webhooks, svix) do: an optional "whsec_"
// prefix is stripped and the rest is standard base64, with or without the
// prefix. Unlike them it refuses a key outside 24–64 bytes, so that an empty
// or short secret can neither verify nor sign. An error is a predicate ("is
// empty; …") for the caller to put the secret's name in front of; it never
// contains the secret.
func DecodeSecret(secret string) ([]byte, error) {
	raw := strings.TrimPrefix(secret, "whsec_")
	if raw == "" {
		return nil, errors.New("is empty; " + SecretFormat)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("is not base64 after the optional whsec_ prefix (%w); %s", err, SecretFormat)
	}
	if len(key) < MinKeyBytes || len(key) > MaxKeyBytes {
		return nil, fmt.Errorf("decodes to %d bytes, not %d to %d; %s", len(key), MinKeyBytes, MaxKeyBytes, SecretFormat)
	}
	return key, nil
}

// Sign computes the raw v1 signature of a message.
func Sign(key []byte, id string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// SignatureHeader is the webhook-signature value for one key.
func SignatureHeader(key []byte, id string, ts int64, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(Sign(key, id, ts, body))
}

// Parse implements plugin.Receiver. The body is a canonical event; an event type
// Treue does not know is acknowledged without events.
func (*Receiver) Parse(d *plugin.Delivery) (plugin.Parsed, error) {
	p := plugin.Parsed{DeliveryID: header(d.Header, "id")}
	if p.DeliveryID == "" {
		return p, &models.ValidationError{Fields: []models.FieldError{{Field: "webhook-id", Message: "header is required"}}}
	}
	// One decode for the common case, a known event type; the probe below
	// sorts out the rest (someone else's type, or a body that is wrong).
	var e models.Event
	if err := json.Unmarshal(d.Body, &e); err == nil && e.Type.Valid() && e.Type != models.CartAbandoned {
		p.Topic = string(e.Type)
		return p, accept(&p, e)
	}
	var probe struct {
		Type models.EventType `json:"type"`
	}
	if err := json.Unmarshal(d.Body, &probe); err != nil {
		return p, &models.MalformedError{Err: err}
	}
	p.Topic = string(probe.Type)
	if probe.Type != "" && !probe.Type.Valid() && validTypeName(string(probe.Type)) {
		return p, nil // someone else's event type: acknowledged, not stored
	}
	if probe.Type == models.CartAbandoned {
		// Treue derives abandonment itself (carts.abandon_after); a sender
		// that computes its own is acknowledged, as for a type Treue does not use.
		return p, nil
	}
	e = models.Event{}
	dec := json.NewDecoder(bytes.NewReader(d.Body))
	if err := dec.Decode(&e); err != nil {
		return p, decodeError(err)
	}
	return p, accept(&p, e)
}

// accept validates a decoded event and adds it to p.
func accept(p *plugin.Parsed, e models.Event) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if e.Type.RecordedByTreue() {
		return &models.ValidationError{Fields: []models.FieldError{{Field: "type", Message: string(e.Type) + " is recorded by Treue from the stock levels; send product.stock_changed"}}}
	}
	// Treue's own format always names the customer; the shop knows it.
	if e.Data.Customer.Empty() && e.Type != models.ShopRedactRequested && e.Type != models.ProductStockChanged {
		return &models.ValidationError{Fields: []models.FieldError{{Field: "data.customer", Message: "needs at least one of id, number, email"}}}
	}
	p.Events = []models.Event{e}
	return nil
}

// validTypeName follows the spec's advice for event types: dot-separated [a-zA-Z0-9_].
func validTypeName(s string) bool {
	for _, r := range s {
		if !(r == '.' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// decodeError names the field whose JSON type is wrong; such a body is well-formed
// JSON, so it is a 422, not a 400.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &models.ValidationError{Fields: []models.FieldError{{Field: models.FieldPath(te.Field), Message: "must be a JSON " + te.Type.String()}}}
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return &models.ValidationError{Fields: []models.FieldError{{Field: "(time)", Message: "every time must be RFC 3339, got " + strconv.Quote(pe.Value)}}}
	}
	return &models.MalformedError{Err: err}
}
