package inbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/plugin"
)

// Outcome is what happened to an accepted delivery.
type Outcome string

// Outcomes of Intake.Receive.
const (
	Stored    Outcome = "stored"
	Duplicate Outcome = "duplicate"
	Ignored   Outcome = "ignored" // a topic Treue does not use
	// Uninstalled: the app was removed from the shop, and the shop's
	// registration is forgotten.
	Uninstalled Outcome = "uninstalled"
	// Unparsed: authentic, but its content could not be turned into events;
	// stored as it came, for `treue inbox replay` after a fix.
	Unparsed Outcome = "unparsed"
)

// ShopFinder looks shops up for the intake.
type ShopFinder interface {
	ShopByKey(ctx context.Context, key string) (*models.Shop, error)
	ShopByExternalID(ctx context.Context, p models.Platform, externalID string) (*models.Shop, error)
}

// InboxWriter commits a delivery durably; duplicate reports one seen before.
type InboxWriter interface {
	InsertInbox(ctx context.Context, it *models.Delivery) (duplicate bool, err error)
}

// Uninstaller forgets a shop's app registration once the platform reports
// the app removed from the shop.
type Uninstaller interface {
	Uninstalled(ctx context.Context, shop *models.Shop) error
}

// Intake verifies deliveries and commits them to the inbox. It makes no
// outbound calls: the sender gets its answer in milliseconds.
type Intake struct {
	Receivers map[models.Platform]plugin.Receiver
	Zones     *plugin.Zones
	Shops     ShopFinder
	Inbox     InboxWriter
	// Uninstall handles app removals; nil acknowledges them and does nothing.
	Uninstall Uninstaller
	Now       func() time.Time
	// StockLookups stores stock changes whose levels are read from the
	// shop's API later (stocklookup.go); nil ignores them.
	StockLookups StockLookupQueue
}

// Result describes an accepted delivery.
type Result struct {
	Outcome    Outcome
	Shop       string
	DeliveryID string
	Topic      string
	// Problem is why an Unparsed delivery could not be parsed: a
	// *models.MalformedError or *models.ValidationError.
	Problem error
}

// ErrUnknownShopOrSignature is the one answer for an unknown shop, a missing or
// wrong signature and a stale timestamp, so a caller learns nothing about which.
var ErrUnknownShopOrSignature = fmt.Errorf("webhook signature could not be verified: %w", models.ErrUnauthorized)

// Receive verifies, validates and stores one delivery. Errors match
// models.ErrUnauthorized (401) or models.ErrUnavailable (503). An authentic
// delivery whose content cannot be parsed is stored as Unparsed, never
// refused: senders drop a delivery answered 4xx for good (Adobe I/O at once,
// Shopify after its retries).
func (in *Intake) Receive(ctx context.Context, platform models.Platform, d *plugin.Delivery) (Result, error) {
	recv, ok := in.Receivers[platform]
	if !ok {
		return Result{}, fmt.Errorf("webhooks: platform %s is not enabled: %w", platform, models.ErrNotFound)
	}
	shop, err := in.identify(ctx, recv, d)
	if err != nil {
		return Result{}, err
	}
	err = recv.Verify(ctx, d, shop, in.Now())
	if errors.Is(err, models.ErrUnauthorized) && !errors.Is(err, models.ErrUnavailable) && in.forget(shop) {
		// The cached shop may predate a secret rotation: check the stored one.
		if shop, err = in.identify(ctx, recv, d); err != nil {
			return Result{}, err
		}
		err = recv.Verify(ctx, d, shop, in.Now())
	}
	if err != nil {
		// A key that could not be fetched is our fault, not the sender's: 503,
		// so the sender retries (Adobe I/O drops an event on any 4xx).
		if errors.Is(err, models.ErrUnavailable) {
			return Result{Shop: shop.Key}, fmt.Errorf("webhooks: verify: %w", err)
		}
		if errors.Is(err, models.ErrUnauthorized) {
			return Result{Shop: shop.Key}, fmt.Errorf("%w (%w)", ErrUnknownShopOrSignature, err)
		}
		return Result{Shop: shop.Key}, err
	}
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = in.Now()
	}
	d.Location = in.Zones.Of(shop)
	parsed, err := recv.Parse(d)
	res := Result{Shop: shop.Key, DeliveryID: storedID(parsed.DeliveryID), Topic: store.Truncate(parsed.Topic, 191)}
	if err != nil {
		var me *models.MalformedError
		var ve *models.ValidationError
		if !errors.As(err, &me) && !errors.As(err, &ve) {
			return res, err
		}
		return in.storeUnparsed(ctx, platform, shop, d, res, bodyHash(parsed, d.Body), err)
	}
	if parsed.Uninstalled && in.Uninstall != nil {
		// Before answering: Shopware sends this once, synchronously, and the
		// merchant may reinstall right after.
		if err := in.Uninstall.Uninstalled(ctx, shop); err != nil {
			return res, fmt.Errorf("webhooks: app removed from shop %s: %w", shop.Key, err)
		}
		in.forget(shop)
		res.Outcome = Uninstalled
		return res, nil
	}
	if len(parsed.Events) == 0 && len(parsed.StockLookups) > 0 && in.StockLookups != nil {
		return in.queueStockLookups(ctx, shop, parsed, res)
	}
	if len(parsed.Events) == 0 {
		res.Outcome = Ignored
		return res, nil
	}
	dup, err := in.Inbox.InsertInbox(ctx, &models.Delivery{
		ShopID: shop.ID, Platform: string(platform), DeliveryID: res.DeliveryID,
		Topic: res.Topic, Headers: store.EncodeHeaders(keepHeaders(d.Header)), Body: d.Body, BodyHash: bodyHash(parsed, d.Body),
	})
	if err != nil {
		return res, fmt.Errorf("webhooks: store delivery: %w", err)
	}
	res.Outcome = Stored
	if dup {
		res.Outcome = Duplicate
	}
	return res, nil
}

// storeUnparsed keeps an authentic delivery that could not be parsed, under
// its delivery id or, where the body is too broken to tell it, under a hash
// of the body (a sender's retry then is a duplicate).
func (in *Intake) storeUnparsed(ctx context.Context, platform models.Platform, shop *models.Shop, d *plugin.Delivery, res Result, hash *string, problem error) (Result, error) {
	if res.DeliveryID == "" {
		sum := sha256.Sum256(d.Body)
		res.DeliveryID = "sha256:" + hex.EncodeToString(sum[:])
	}
	reason := store.Truncate(problem.Error(), 4000)
	dup, err := in.Inbox.InsertInbox(ctx, &models.Delivery{
		ShopID: shop.ID, Platform: string(platform), DeliveryID: res.DeliveryID, Topic: res.Topic,
		Headers: store.EncodeHeaders(keepHeaders(d.Header)), Body: d.Body, Status: store.InboxUnparsed, Error: &reason, BodyHash: hash,
	})
	if err != nil {
		return res, fmt.Errorf("webhooks: store unparsed delivery: %w", err)
	}
	res.Outcome, res.Problem = Unparsed, problem
	if dup {
		res.Outcome = Duplicate
	}
	return res, nil
}

// bodyHash keys a delivery whose id is not signed by what is: the topic
// (which selects the mapping) and the body. Nil for signed ids.
func bodyHash(p plugin.Parsed, body []byte) *string {
	if !p.UnsignedID {
		return nil
	}
	h := sha256.New()
	h.Write([]byte(p.Topic))
	h.Write([]byte{0})
	h.Write(body)
	s := hex.EncodeToString(h.Sum(nil))
	return &s
}

// forget drops shop from a caching ShopFinder and reports whether there
// was a cache to drop it from.
func (in *Intake) forget(shop *models.Shop) bool {
	f, ok := in.Shops.(interface{ Forget(*models.Shop) })
	if ok {
		f.Forget(shop)
	}
	return ok
}

func (in *Intake) identify(ctx context.Context, recv plugin.Receiver, d *plugin.Delivery) (*models.Shop, error) {
	ref, err := recv.Identify(d)
	if err != nil {
		return nil, fmt.Errorf("%w (%w)", ErrUnknownShopOrSignature, err)
	}
	var shop *models.Shop
	if ref.Key != "" {
		shop, err = in.Shops.ShopByKey(ctx, ref.Key)
	} else {
		shop, err = in.Shops.ShopByExternalID(ctx, recv.Platform(), ref.ExternalID)
	}
	if errors.Is(err, models.ErrNotFound) {
		return nil, fmt.Errorf("%w (unknown shop)", ErrUnknownShopOrSignature)
	}
	if err != nil {
		return nil, fmt.Errorf("webhooks: find shop: %w", err)
	}
	// A shop's secret only counts on its own platform's route. A shop of
	// another platform with a Standard Webhooks secret of its own also takes
	// canonical events on that route, verified with that secret alone.
	if shop.Platform != recv.Platform() {
		if recv.Platform() != models.PlatformStandard || shop.Secrets.Standard == "" {
			return nil, fmt.Errorf("%w (shop %s is on platform %s)", ErrUnknownShopOrSignature, shop.Key, shop.Platform)
		}
		alias := *shop
		alias.Secrets.Webhook, alias.Secrets.PreviousUntil = []string{shop.Secrets.Standard}, time.Time{}
		return &alias, nil
	}
	return shop, nil
}

// keepHeaders drops credentials; the rest may be needed to parse the body again.
func keepHeaders(h http.Header) http.Header {
	out := h.Clone()
	for _, k := range []string{"Authorization", "Cookie", "Proxy-Authorization"} {
		out.Del(k)
	}
	return out
}

// maxDeliveryID is the inbox's delivery_id column, in bytes (VARCHAR(191)
// counts characters; bytes are the stricter bound).
const maxDeliveryID = 191

// storedID is the key a delivery is stored under: the sender's delivery id,
// or, for one too long for the column or not valid UTF-8, "sha256:" and the
// id's hash. A retry with the same id maps to the same key, so it is a
// duplicate on both databases instead of a 503 on MySQL for ever.
func storedID(id string) string {
	if len(id) <= maxDeliveryID && utf8.ValidString(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:])
}
