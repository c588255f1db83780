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
	"strconv"
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
//     v1.5) signature of the raw body under a key the KeySource returns for
//     the path in x-adobe-public-key1-path or -2-path; either one suffices.
//
// Deliveries are not rejected for age: nothing signed carries a time, and I/O
// Events retries a delivery for 24 hours. The inbox dedupes on the event id.
//
// Every failure wraps models.ErrUnauthorized, and its message says, per
// signature, which key path was asked for and which keys were tried. When no
// signature could be checked and a key could not be fetched, the error also
// wraps models.ErrUnavailable: I/O Events drops an event for good on any 4xx,
// so the HTTP layer should answer that case with a 5xx to get a retry.
func (r *Receiver) Verify(ctx context.Context, d *plugin.Delivery, shop *models.Shop, now time.Time) error {
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
	// Why each signature failed goes into the error, which the HTTP layer logs
	// (the answer stays generic): the key path asked for and the keys tried
	// are what an operator needs to fix public_key_files.
	var problems []string
	checked, unavailable := 0, false
	for i, h := range [...]struct{ sig, path string }{{headerSig1, headerKey1}, {headerSig2, headerKey2}} {
		sigText, keyPath := strings.TrimSpace(d.Header.Get(h.sig)), strings.TrimSpace(d.Header.Get(h.path))
		n := i + 1
		switch {
		case sigText == "" && keyPath == "":
			problems = append(problems, fmt.Sprintf("signature %d: not sent", n))
			continue
		case sigText == "":
			problems = append(problems, fmt.Sprintf("signature %d: not sent (key path %s)", n, shown(keyPath)))
			continue
		case keyPath == "":
			problems = append(problems, fmt.Sprintf("signature %d: sent without a key path", n))
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(sigText)
		if err != nil {
			problems = append(problems, fmt.Sprintf("signature %d (key path %s): not base64", n, shown(keyPath)))
			continue
		}
		// The request's context: a fetch stops when the sender hangs up, and
		// the KeySource bounds its own wait besides.
		keys, err := r.keys.PublicKeys(ctx, keyPath)
		if err != nil {
			unavailable = unavailable || errors.Is(err, models.ErrUnavailable)
			problems = append(problems, fmt.Sprintf("signature %d (key path %s): %v", n, shown(keyPath), err))
			continue
		}
		checked++
		for _, k := range keys {
			if rsa.VerifyPKCS1v15(k.Key, crypto.SHA256, digest[:], sig) == nil {
				return nil
			}
		}
		problems = append(problems, fmt.Sprintf("signature %d (key path %s) is valid under none of %s", n, shown(keyPath), origins(keys)))
	}
	err := fmt.Errorf("adobe: verify: no valid signature (%d checked): %s", checked, strings.Join(problems, "; "))
	if checked == 0 && unavailable {
		// A key that could not be fetched may be fetched on the sender's retry.
		return fmt.Errorf("%w: %w: %w", err, models.ErrUnavailable, models.ErrUnauthorized)
	}
	return fmt.Errorf("%w: %w", err, models.ErrUnauthorized)
}

// shown quotes a header value for the log, cut short: it comes from an
// unauthenticated request.
func shown(v string) string {
	const maxShown = 256
	if len(v) > maxShown {
		v = v[:maxShown] + "…"
	}
	return strconv.Quote(v)
}

// origins names the keys a signature was checked against.
func origins(keys []PublicKey) string {
	if len(keys) == 0 {
		return "no keys"
	}
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Origin
	}
	return "the keys from " + strings.Join(names, ", ")
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
		if err := plugin.DecodeJSON("adobe", d.Body, &envs); err != nil {
			return plugin.Parsed{}, err
		}
	} else {
		var e cloudEvent
		if err := plugin.DecodeJSON("adobe", d.Body, &e); err != nil {
			return plugin.Parsed{}, err
		}
		envs = []cloudEvent{e}
	}
	// x-adobe-event-id is not signed; the body is.
	p := plugin.Parsed{DeliveryID: deliveryID(d, envs), Topic: topic(envs), UnsignedID: true}
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
