// Package shopify receives Shopify webhooks (REST resource payloads, HMAC-signed)
// and normalizes them to Treue's journey events.
//
// A shop is configured with platform "shopify", ExternalID set to its
// "<shop>.myshopify.com" domain, and Secrets.Webhook holding the app's client
// secret (the key Shopify signs deliveries with). During a secret rotation put the
// new secret first and keep the old one second until PreviousUntil: Shopify can
// take up to an hour to start signing with the new one.
package shopify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

// Header names Shopify sends. http.Header canonicalizes keys, so the spelling
// here only matters for readability (HTTP/2 deliveries arrive lower-case).
const (
	headerShopDomain  = "X-Shopify-Shop-Domain"
	headerHMAC        = "X-Shopify-Hmac-Sha256"
	headerTopic       = "X-Shopify-Topic"
	headerWebhookID   = "X-Shopify-Webhook-Id"
	headerTriggeredAt = "X-Shopify-Triggered-At"
)

// MaxAge is how old a delivery's X-Shopify-Triggered-At may be: Shopify
// retries 8 times over 4 hours, so a day leaves room for clock skew and
// slow retries and none for a replay days later.
const MaxAge = 24 * time.Hour

// Receiver implements plugin.Receiver for Shopify. It holds no state.
type Receiver struct{}

var _ plugin.Receiver = (*Receiver)(nil)

// New returns a Shopify receiver.
func New() *Receiver { return &Receiver{} }

// Platform returns models.PlatformShopify.
func (*Receiver) Platform() models.Platform { return models.PlatformShopify }

// Identify returns the shop domain the delivery claims to come from, lower-cased
// so it matches the ExternalID stored for the shop.
func (*Receiver) Identify(d *plugin.Delivery) (plugin.ShopRef, error) {
	domain := strings.ToLower(strings.TrimSpace(d.Header.Get(headerShopDomain)))
	if domain == "" {
		return plugin.ShopRef{}, fmt.Errorf("shopify: missing %s header: %w", headerShopDomain, models.ErrUnauthorized)
	}
	return plugin.ShopRef{ExternalID: domain}, nil
}

// Verify checks X-Shopify-Hmac-Sha256 against every secret active at now.
//
// Shopify retries for up to 4 hours with the original payload, and nothing in
// the signature binds a time or the delivery id. A replayed body is caught by
// the inbox's dedupe on the body's hash (Parsed.UnsignedID); a delivery whose
// X-Shopify-Triggered-At lies further than MaxAge in the past (or an hour in
// the future) is no retry and is refused. The header is not signed either,
// so this only stops replays that keep it.
func (*Receiver) Verify(_ context.Context, d *plugin.Delivery, shop *models.Shop, now time.Time) error {
	if shop == nil {
		return fmt.Errorf("shopify: verify: no shop: %w", models.ErrUnauthorized)
	}
	if s := strings.TrimSpace(d.Header.Get(headerTriggeredAt)); s != "" {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil && (now.Sub(t) > MaxAge || t.Sub(now) > time.Hour) {
			return fmt.Errorf("shopify: verify: %s %s is outside Shopify's retry window: %w", headerTriggeredAt, s, models.ErrUnauthorized)
		}
	}
	// The domain header is not covered by the HMAC. When one app secret serves several
	// shops, this keeps a delivery signed for one shop from being booked to another
	// only as far as the header goes; the body is what the signature protects.
	domain := strings.ToLower(strings.TrimSpace(d.Header.Get(headerShopDomain)))
	if domain == "" || domain != strings.ToLower(shop.ExternalID) {
		return fmt.Errorf("shopify: verify: shop domain does not match shop %q: %w", shop.Key, models.ErrUnauthorized)
	}
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(d.Header.Get(headerHMAC)))
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("shopify: verify: missing or malformed %s header: %w", headerHMAC, models.ErrUnauthorized)
	}
	secrets := shop.Secrets.ActiveWebhookSecrets(now)
	ok := false
	// Every active secret is tried even after a match, so the time taken does not
	// reveal which one signed.
	for _, s := range secrets {
		if s == "" {
			continue
		}
		mac := hmac.New(sha256.New, []byte(s))
		mac.Write(d.Body)
		if hmac.Equal(mac.Sum(nil), got) {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("shopify: verify: signature does not match any of %d active secrets: %w", len(secrets), models.ErrUnauthorized)
	}
	return nil
}

// Parse maps a verified delivery to journey events by its X-Shopify-Topic.
// Topics Treue does not use yield no events and no error.
func (*Receiver) Parse(d *plugin.Delivery) (plugin.Parsed, error) {
	p := plugin.Parsed{
		DeliveryID: strings.TrimSpace(d.Header.Get(headerWebhookID)),
		Topic:      strings.ToLower(strings.TrimSpace(d.Header.Get(headerTopic))),
		UnsignedID: true, // the HMAC covers the body only
	}
	var v models.ValidationError
	if p.DeliveryID == "" {
		v.Add(headerWebhookID, "header is required")
	}
	if p.Topic == "" {
		v.Add(headerTopic, "header is required")
	}
	if err := v.Err(); err != nil {
		return p, err
	}
	// The trigger time stands in for payloads without a timestamp of their own
	// (compliance topics, returns). A malformed header is ignored rather than fatal:
	// the payload's own times are preferred anyway.
	fallback := d.ReceivedAt.UTC()
	if s := strings.TrimSpace(d.Header.Get(headerTriggeredAt)); s != "" {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			fallback = t.UTC()
		}
	}
	lookups, err := stockLookups(p.Topic, d.Body, fallback)
	if err != nil || lookups != nil {
		p.StockLookups = lookups
		return p, err
	}
	mapper := mapperFor(p.Topic)
	if mapper == nil {
		return p, nil
	}
	events, err := mapper(d.Body, fallback)
	if err != nil {
		return p, err
	}
	// The error is returned as is, not wrapped, so callers can rely on the
	// *models.ValidationError named by the plugin.Receiver contract.
	for i := range events {
		if err := events[i].Validate(); err != nil {
			return p, err
		}
	}
	p.Events = events
	return p, nil
}
