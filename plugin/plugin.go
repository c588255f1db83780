// Package plugin defines the contract between Treue and a shop platform.
// Each platform lives in its own sub-package (shopware, shopify, adobe, standard).
package plugin

import (
	"net/http"
	"time"

	"github.com/treue/treue/models"
)

// Delivery is one inbound webhook as it came off the wire. Body is the exact raw
// bytes: signatures are computed over them, so nothing may re-encode it.
type Delivery struct {
	Header http.Header
	Body   []byte
	// RawQuery is the request's query string, undecoded.
	RawQuery string
	// ShopKey is the {shop} path parameter on routes that have one.
	ShopKey string
}

// ShopRef is what an unverified delivery claims about its sender. Exactly one
// field is set: the Treue shop key (from the path) or the platform's own shop id.
type ShopRef struct {
	Key        string
	ExternalID string
}

// Parsed is a delivery normalized to Treue's journey.
type Parsed struct {
	// DeliveryID is the sender's idempotency key for this delivery (same on retries).
	DeliveryID string
	// Topic is the platform's own event name, for logs and metrics.
	Topic string
	// Events are the canonical journey events; empty when the topic is one Treue
	// does not use (the delivery is acknowledged and counted, not stored).
	Events []models.Event
}

// Receiver turns a platform's webhooks into canonical journey events.
// Implementations are stateless and safe for concurrent use.
type Receiver interface {
	// Platform names the platform.
	Platform() models.Platform
	// Identify reads which shop claims to have sent d. It trusts nothing yet;
	// an error here is answered like a bad signature.
	Identify(d *Delivery) (ShopRef, error)
	// Verify authenticates d with shop's secrets, in constant time, and rejects
	// stale deliveries. It fails closed and returns an error wrapping
	// models.ErrUnauthorized.
	Verify(d *Delivery, shop *models.Shop, now time.Time) error
	// Parse normalizes a verified delivery. Errors are *models.MalformedError
	// (the body is not decodable) or *models.ValidationError (a field is missing
	// or wrong, named by its path). Parse is pure: the processor calls it again
	// on the stored body.
	Parse(d *Delivery) (Parsed, error)
}
