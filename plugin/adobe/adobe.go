// Package adobe receives Adobe I/O Events deliveries from Adobe Commerce
// (CloudEvents JSON, RSA-signed by I/O Events) and normalizes them to Treue's
// journey events.
//
// A shop is configured with platform "adobe", its Treue key in the webhook URL
// (/webhooks/adobe/{shop}), and ExternalID set to the client id (API key) of the
// Adobe Developer Console project whose event registration points at that URL:
// I/O Events stamps it into every event as recipientclientid. No shared secret
// is involved; signatures are checked with Adobe's public keys from a KeySource.
//
// Magento Open Source has no I/O Events; it uses the module in plugin/magento,
// which sends Standard Webhooks instead.
package adobe

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

// Header names I/O Events sends (http.Header canonicalizes them on lookup).
const (
	headerEventID = "X-Adobe-Event-Id"
	headerSig1    = "X-Adobe-Digital-Signature-1"
	headerSig2    = "X-Adobe-Digital-Signature-2"
	headerKey1    = "X-Adobe-Public-Key1-Path"
	headerKey2    = "X-Adobe-Public-Key2-Path"
)

// Receiver implements plugin.Receiver for Adobe I/O Events. It is safe for
// concurrent use as long as its KeySource is.
type Receiver struct {
	keys KeySource
}

var _ plugin.Receiver = (*Receiver)(nil)

// New returns a receiver that checks signatures with keys from keys: a
// *KeyFetcher in production, or *StaticKeys where the host cannot reach
// static.adobeioevents.com. A nil KeySource makes every Verify fail.
func New(keys KeySource) *Receiver { return &Receiver{keys: keys} }

// Platform returns models.PlatformAdobe.
func (*Receiver) Platform() models.Platform { return models.PlatformAdobe }

// Identify returns the shop key from the route: I/O Events deliveries carry no
// shop name of their own, only the project's client id.
func (*Receiver) Identify(d *plugin.Delivery) (plugin.ShopRef, error) {
	if d.ShopKey == "" {
		return plugin.ShopRef{}, fmt.Errorf("adobe: no shop key in the webhook path: %w", models.ErrUnauthorized)
	}
	return plugin.ShopRef{Key: d.ShopKey}, nil
}

// MaxChallenge is the longest challenge value Challenge accepts; I/O Events
// sends a UUID (36 characters).
const MaxChallenge = 128

// Challenge returns the value of the registration handshake's
// "GET <url>?challenge=<uuid>", or an error that says what is wrong with it.
//
// The HTTP layer answers it with 200 and either the bare value as text/plain or
// {"challenge":"<value>"} as application/json (Adobe accepts both, provided the
// Content-Type matches; see testdata/README.md). JSON is the safer choice. The
// value is echoed to the caller, so only short token-like values are accepted:
// letters, digits, '-', '_' and '.'.
func Challenge(rawQuery string) (string, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", fmt.Errorf("the query string is not valid URL encoding: %w", err)
	}
	c := q.Get("challenge")
	if c == "" {
		return "", errors.New("the query parameter challenge is required")
	}
	if len(c) > MaxChallenge {
		return "", fmt.Errorf("challenge is %d bytes long; at most %d are accepted (I/O Events sends a UUID)", len(c), MaxChallenge)
	}
	for i, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return "", fmt.Errorf("challenge has %q at byte %d; only letters, digits, '-', '_' and '.' are accepted (I/O Events sends a UUID)", r, i+1)
		}
	}
	return c, nil
}

// Challenge is the package function Challenge as a method, so the HTTP layer
// can find the handshake by a type assertion on the receiver.
func (*Receiver) Challenge(rawQuery string) (string, error) { return Challenge(rawQuery) }

// Verify authenticates a delivery:
//
//   - every event's recipientclientid (or the deprecated recipient_client_id)
//     must equal the shop's ExternalID, so events meant for another Developer
//     Console project are refused even though Adobe signed them;
//   - x-adobe-digital-signature-1 or -2 must be a valid RSA-SHA256 (PKCS #1
//     v1.5) signature of the raw body under the key named by
//     x-adobe-public-key1-path or -2-path; either one suffices.
//
// Deliveries are not rejected for age: nothing signed carries a time, and I/O
// Events retries a delivery for 24 hours. The inbox dedupes on the event id.
//
// Every failure wraps models.ErrUnauthorized. When no signature could be checked
// because a key could not be fetched, the error also wraps models.ErrUnavailable:
// I/O Events drops an event for good on any 4xx, so the HTTP layer should answer
// that case with a 5xx to get a retry.
func (r *Receiver) Verify(d *plugin.Delivery, shop *models.Shop, now time.Time) error {
	if shop == nil || shop.ExternalID == "" {
		return fmt.Errorf("adobe: verify: shop has no client id configured: %w", models.ErrUnauthorized)
	}
	// The recipient is checked first: it is cheap and keeps traffic meant for
	// others from making us fetch keys.
	if err := checkRecipient(d.Body, shop.ExternalID); err != nil {
		return fmt.Errorf("adobe: verify: %w: %w", err, models.ErrUnauthorized)
	}
	if r.keys == nil {
		return fmt.Errorf("adobe: verify: no key source: %w", models.ErrUnauthorized)
	}
	digest := sha256.Sum256(d.Body)
	var keyErr error
	checked := 0
	for _, h := range [...]struct{ sig, path string }{{headerSig1, headerKey1}, {headerSig2, headerKey2}} {
		sigText, keyPath := strings.TrimSpace(d.Header.Get(h.sig)), strings.TrimSpace(d.Header.Get(h.path))
		if sigText == "" || keyPath == "" {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(sigText)
		if err != nil {
			continue
		}
		// Verify has no context of its own; the KeySource bounds its own wait.
		key, err := r.keys.PublicKey(context.Background(), keyPath)
		if err != nil {
			keyErr = err
			continue
		}
		checked++
		if rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig) == nil {
			return nil
		}
	}
	if checked == 0 && keyErr != nil {
		// keyErr keeps models.ErrUnavailable visible when the key fetch was transient.
		return fmt.Errorf("adobe: verify: no signature checkable: %w: %w", keyErr, models.ErrUnauthorized)
	}
	return fmt.Errorf("adobe: verify: no valid signature (%d checked): %w", checked, models.ErrUnauthorized)
}

// checkRecipient compares every event's recipient client id with clientID.
func checkRecipient(body []byte, clientID string) error {
	type recipient struct {
		RecipientClientID string `json:"recipientclientid"`
		Legacy            string `json:"recipient_client_id"`
	}
	var all []recipient
	if isBatch(body) {
		if err := json.Unmarshal(body, &all); err != nil {
			return errors.New("body is not a JSON array of events")
		}
		if len(all) == 0 {
			return errors.New("empty batch")
		}
	} else {
		var one recipient
		if err := json.Unmarshal(body, &one); err != nil {
			return errors.New("body is not a JSON event")
		}
		all = []recipient{one}
	}
	for _, r := range all {
		got := r.RecipientClientID
		if got == "" {
			got = r.Legacy
		}
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(clientID)) != 1 {
			return errors.New("recipientclientid does not match the shop's client id")
		}
	}
	return nil
}

// isBatch reports whether the body is a JSON array, the shape of I/O Events'
// "batch" delivery style (up to 20 events per request).
func isBatch(body []byte) bool {
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && b[0] == '['
}

// Parse maps a verified delivery to journey events by each CloudEvent's type.
// Types Treue does not use yield no events.
func (*Receiver) Parse(d *plugin.Delivery) (plugin.Parsed, error) {
	var envs []cloudEvent
	if isBatch(d.Body) {
		if err := decode(d.Body, &envs); err != nil {
			return plugin.Parsed{}, err
		}
	} else {
		var e cloudEvent
		if err := decode(d.Body, &e); err != nil {
			return plugin.Parsed{}, err
		}
		envs = []cloudEvent{e}
	}
	p := plugin.Parsed{DeliveryID: deliveryID(d, envs), Topic: topic(envs)}
	if p.DeliveryID == "" {
		var v models.ValidationError
		v.Add(headerEventID, "header or the event's eventid or id is required")
		return p, &v
	}
	for i := range envs {
		events, err := envs[i].events(d.Location)
		if err != nil {
			return p, err
		}
		// Returned as is, not wrapped: the plugin.Receiver contract names
		// *models.ValidationError.
		for j := range events {
			if err := events[j].Validate(); err != nil {
				return p, err
			}
		}
		p.Events = append(p.Events, events...)
	}
	return p, nil
}

// deliveryID is the idempotency key: x-adobe-event-id (the same on every retry),
// else the event's own id. A batch without the header is keyed by a hash of its
// event ids, which a retry of the same batch repeats.
func deliveryID(d *plugin.Delivery, envs []cloudEvent) string {
	if id := strings.TrimSpace(d.Header.Get(headerEventID)); id != "" {
		return id
	}
	ids := make([]string, 0, len(envs))
	for i := range envs {
		id := envs[i].id()
		if id == "" {
			return ""
		}
		ids = append(ids, id)
	}
	switch len(ids) {
	case 0:
		return ""
	case 1:
		return ids[0]
	}
	sum := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	return fmt.Sprintf("batch-%x", sum[:16])
}

// topic is the CloudEvents type, or "batch" for a batch of mixed types.
func topic(envs []cloudEvent) string {
	if len(envs) == 0 {
		return "batch"
	}
	for i := range envs {
		if envs[i].Type != envs[0].Type {
			return "batch"
		}
	}
	return envs[0].Type
}
