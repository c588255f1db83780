// Package shopware receives Shopware 6 app webhooks and runs the app's side of the
// registration handshake.
//
// Shopware signs every webhook with a per-shop secret that the shop obtained from us
// during registration (registration.go). Business events carry the whole entity in their
// payload, so a delivery maps onto canonical journey events without calling the shop back.
// See /work/shared/platforms/shopware.md for the facts this package relies on.
package shopware

import (
	"context"
	"fmt"
	json "github.com/go-json-experiment/json/v1"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

const (
	// shopSignatureHeader carries hex(HMAC-SHA256(shop secret, raw body)) on webhooks
	// and on the registration confirmation.
	shopSignatureHeader = "shopware-shop-signature"
	// eventIDHeader is sent by the reworked delivery (WEBHOOKS_REWORK) next to source.eventId.
	eventIDHeader = "X-Shopware-Event-Id"
	// appDeleted is sent, signed with the shop's secret, when the merchant removes the app.
	appDeleted = "app.deleted"
	// defaultTolerance bounds clock skew plus queueing; Shopware stamps every send attempt
	// anew, so even a retry hours later arrives with a fresh timestamp.
	defaultTolerance = 5 * time.Minute
)

// Receiver turns Shopware app webhooks into canonical journey events.
// It holds no state besides its configuration and is safe for concurrent use.
type Receiver struct {
	// Tolerance is how far the envelope timestamp may lie from now, either way,
	// before a delivery is refused as a replay. Zero means 5 minutes.
	Tolerance time.Duration
}

// New returns a Receiver that accepts timestamps within ±tolerance of now
// (5 minutes when tolerance is zero).
func New(tolerance time.Duration) *Receiver { return &Receiver{Tolerance: tolerance} }

var _ plugin.Receiver = (*Receiver)(nil)

// Platform reports models.PlatformShopware.
func (r *Receiver) Platform() models.Platform { return models.PlatformShopware }

// Identify reads source.shopId, the only thing that tells which shop secret to verify with.
func (r *Receiver) Identify(d *plugin.Delivery) (plugin.ShopRef, error) {
	shopID, _, err := decodeHead(d)
	if err != nil {
		return plugin.ShopRef{}, fmt.Errorf("shopware: identify: body is not a webhook envelope: %w", models.ErrUnauthorized)
	}
	if shopID == "" {
		return plugin.ShopRef{}, fmt.Errorf("shopware: identify: source.shopId is missing: %w", models.ErrUnauthorized)
	}
	return plugin.ShopRef{ExternalID: shopID}, nil
}

// decodeHead reads the shop id and timestamp. A body whose envelope does not
// decode as a whole still gets them when they are there, so that a signed
// delivery with a bad payload is answered by Parse (400), not as unsigned.
func decodeHead(d *plugin.Delivery) (shopID string, timestamp int64, err error) {
	if env, err := decodeEnvelope(d); err == nil {
		return env.Source.ShopID, env.Timestamp, nil
	}
	var h struct {
		Source struct {
			ShopID string `json:"shopId"`
		} `json:"source"`
		Timestamp int64 `json:"timestamp"`
	}
	err = json.Unmarshal(d.Body, &h)
	return h.Source.ShopID, h.Timestamp, err
}

// decodeEnvelope decodes the envelope of d once; Identify, Verify and Parse
// share it through d.Decoded (a Shopware body carries the whole order, ~15 KB).
func decodeEnvelope(d *plugin.Delivery) (*envelope, error) {
	if env, ok := d.Decoded.(*envelope); ok {
		return env, nil
	}
	env := &envelope{}
	if err := json.Unmarshal(d.Body, env); err != nil {
		return nil, err
	}
	d.Decoded = env
	return env, nil
}

// Verify checks the HMAC over the raw body against every secret the shop may use at now
// (the current one, and the previous one during a rotation's grace period), then refuses
// deliveries whose timestamp is too far from now. The timestamp is checked only after the
// signature, because before that it is just a claim.
func (r *Receiver) Verify(_ context.Context, d *plugin.Delivery, shop *models.Shop, now time.Time) error {
	if shop == nil {
		return fmt.Errorf("shopware: verify: no shop: %w", models.ErrUnauthorized)
	}
	if err := checkSignature(d.Header.Get(shopSignatureHeader), d.Body, shop.Secrets.ActiveWebhookSecrets(now)); err != nil {
		return fmt.Errorf("shopware: verify: %w", err)
	}
	_, timestamp, err := decodeHead(d)
	if err != nil || timestamp == 0 {
		return fmt.Errorf("shopware: verify: timestamp is missing: %w", models.ErrUnauthorized)
	}
	if err := checkFresh(time.Unix(timestamp, 0), now, r.tolerance()); err != nil {
		return fmt.Errorf("shopware: verify: %w", err)
	}
	return nil
}

func (r *Receiver) tolerance() time.Duration {
	if r.Tolerance > 0 {
		return r.Tolerance
	}
	return defaultTolerance
}

// envelope is the part of every Shopware webhook body that does not depend on the event.
type envelope struct {
	Data struct {
		Event string `json:"event"`
		// Payload is an object for business events and a list for entity-written
		// events; it is decoded only once the event name says which.
		Payload json.RawMessage `json:"payload"`
	} `json:"data"`
	Source struct {
		URL        string `json:"url"`
		ShopID     string `json:"shopId"`
		AppVersion string `json:"appVersion"`
		EventID    string `json:"eventId"`
	} `json:"source"`
	// Timestamp is the send time in Unix seconds, renewed on every attempt.
	Timestamp int64 `json:"timestamp"`
}

// Parse normalizes a verified delivery. Topics Treue does not use yield no events and no
// error, so that Shopware sees a 2xx and does not count the delivery as failed.
func (r *Receiver) Parse(d *plugin.Delivery) (plugin.Parsed, error) {
	env, err := decodeEnvelope(d)
	if err != nil {
		return plugin.Parsed{}, decodeError(err, "")
	}
	// source.eventId is covered by the signature and the header is not, so the body wins.
	out := plugin.Parsed{DeliveryID: env.Source.EventID, Topic: env.Data.Event}
	if out.DeliveryID == "" {
		out.DeliveryID = d.Header.Get(eventIDHeader)
	}
	var v models.ValidationError
	if out.DeliveryID == "" {
		v.Add("source.eventId", "is required (Shopware 6.4.11 or newer sends it)")
	}
	if out.Topic == "" {
		v.Add("data.event", "is required")
	}
	if err := v.Err(); err != nil {
		return out, err
	}

	var ts time.Time // zero when missing, which Event.Validate reports as "timestamp"
	if env.Timestamp != 0 {
		ts = time.Unix(env.Timestamp, 0).UTC()
	}
	events, err := mapEvent(env.Data.Event, env.Data.Payload, ts)
	if err != nil {
		return out, err
	}
	for i := range events {
		if err := events[i].Validate(); err != nil {
			return out, err
		}
	}
	out.Events = events
	out.Uninstalled = out.Topic == appDeleted
	if out.StockLookups, err = stockLookups(env.Data.Event, env.Data.Payload, ts); err != nil {
		return out, err
	}
	return out, nil
}
