// Package plugin defines the contract between Treue and a shop platform.
// Each platform lives in its own sub-package (shopware, shopify, adobe, standard).
package plugin

import (
	"context"
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
	// ReceivedAt is when Treue first received the delivery (the same when the
	// stored delivery is parsed again); parsers use it for events whose
	// payload carries no time at all.
	ReceivedAt time.Time
	// Location is the shop's time zone, for payload times that are dates
	// only; nil means UTC.
	Location *time.Location
	// Decoded is the receiver's own decoding of Body, kept from Identify for
	// Verify and Parse so that a large body is decoded once. Only the
	// receiver that set it reads it.
	Decoded any
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
	// UnsignedID says the delivery id is not covered by the signature
	// (Shopify's X-Shopify-Webhook-Id, Adobe's x-adobe-event-id): the inbox
	// then also dedupes on a hash of the topic and the signed body, so that
	// a body replayed under a new id is a duplicate.
	UnsignedID bool
	// Uninstalled says the app was removed from the shop (Shopware's
	// app.deleted): the shop's credentials are void, and an installation
	// after it registers afresh.
	Uninstalled bool
	// StockLookups are stock changes whose levels the shop's API must be
	// asked for (stock.go); such a delivery has no Events of its own.
	StockLookups []StockLookup
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
	// models.ErrUnauthorized. ctx is the request's: a receiver that must fetch
	// a key to verify (Adobe) gives up when the sender does.
	Verify(ctx context.Context, d *Delivery, shop *models.Shop, now time.Time) error
	// Parse normalizes a verified delivery. Errors are *models.MalformedError
	// (the body is not decodable) or *models.ValidationError (a field is missing
	// or wrong, named by its path). Parse is pure: the processor calls it again
	// on the stored body.
	Parse(d *Delivery) (Parsed, error)
}

// Job is one action to carry out in a shop, with what a connector needs to
// address the customer there.
type Job struct {
	Shop     *models.Shop
	Action   *models.Action
	Customer CustomerInfo
}

// CustomerInfo is how the shop knows the customer. Any field may be empty.
type CustomerInfo struct {
	ShopCustomerID string // the shop's own customer id
	Number         string
	Email          string
	FirstName      string
	LastName       string
	Profile        *models.Profile
}

// Result summarizes one successful call into the shop, for the attempt log.
// It never holds credentials.
type Result struct {
	StatusCode int
	Summary    string
	// External is what the shop created, such as a promo code, if anything.
	External string
}

// Connector carries out actions in a shop. Execute must make the effect happen
// at most once per action even when called again after a timeout: it sends
// Job.Action.IdempotencyKey where the shop supports it and otherwise makes the
// effect idempotent itself. Errors are *Error so the dispatcher knows whether
// to retry.
type Connector interface {
	Execute(ctx context.Context, job Job) (Result, error)
}

// ErrorKind separates failures worth retrying from those that are not.
type ErrorKind int

// Error kinds.
const (
	// Transient: timeouts, 5xx, 408/409/425/429: retry with backoff.
	Transient ErrorKind = iota
	// Permanent: other 4xx, invalid credentials, a shop that cannot do this:
	// the action ends as dead at once.
	Permanent
)

// Error is a connector failure with its retry class.
type Error struct {
	Kind       ErrorKind
	StatusCode int           // the shop's HTTP status, 0 when none
	RetryAfter time.Duration // from Retry-After on 429/503, 0 when absent
	Err        error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }
