package shopware

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/treue/treue/egress"
	"github.com/treue/treue/models"
)

const (
	// appSignatureHeader carries hex(HMAC-SHA256(app secret, query)) on the registration request.
	appSignatureHeader = "shopware-app-signature"
	// previousSignatureHeader carries, on a re-registration's confirmation, the body's HMAC
	// under the shop's secret that is being replaced.
	previousSignatureHeader = "shopware-shop-signature-previous"
	// defaultGrace is how long the replaced secret still verifies webhooks after a rotation,
	// for deliveries that were signed before it (the SDK's INFLIGHT_ALLOWANCE).
	defaultGrace = 60 * time.Second
	// shopSecretBytes of randomness give a 128-character hex secret; Shopware requires 64–255.
	shopSecretBytes = 64
)

// ShopStore is the storage the handshake needs; the storage layer implements it.
type ShopStore interface {
	// ShopByExternalID returns the shop that platform knows as externalID,
	// or an error matching models.ErrNotFound.
	ShopByExternalID(ctx context.Context, platform models.Platform, externalID string) (*models.Shop, error)
	// SaveShop inserts s when s.ID is 0 and updates every field (Secrets included) otherwise.
	SaveShop(ctx context.Context, s *models.Shop) error
}

// RegisterResponse is the JSON answer to a registration request.
type RegisterResponse struct {
	// Proof shows the shop that we know the app secret.
	Proof string `json:"proof"`
	// Secret is the new shop secret; it becomes effective only on confirmation.
	Secret          string `json:"secret"`
	ConfirmationURL string `json:"confirmation_url"`
}

// Registrar runs the app's side of the Shopware registration handshake: a signed GET
// hands out a new shop secret, a POST signed with that secret confirms it and delivers
// the shop's Admin API credentials. The same two steps rotate the secret of a known shop,
// which must then prove itself with its current secret as well.
type Registrar struct {
	// AppName is the manifest's <name>; it is part of the proof.
	AppName string
	// AppSecret is the manifest's <secret> (or the one the Shopware Account holds).
	AppSecret string
	// ConfirmURL is where the shop posts the confirmation.
	ConfirmURL string
	Store      ShopStore
	// Now defaults to time.Now.
	Now func() time.Time
	// Rand is the source of shop secrets; it defaults to crypto/rand.Reader.
	Rand io.Reader
	// Grace is how long the replaced secret still verifies webhooks; zero means 60 s.
	Grace time.Duration
	// Tolerance is how far a signed timestamp may lie from now; zero means 5 minutes.
	Tolerance time.Duration
	// Egress is the dispatcher's outbound policy: a shop URL it would refuse
	// to call (a loopback, private or metadata address, credentials in the
	// URL) is refused at registration rather than failing every action
	// later. Nil checks the URL's form only.
	Egress *egress.Options
}

// Register answers GET <registrationUrl>?shop-id=…&shop-url=…&timestamp=…. It verifies
// the app signature over the query (and, for a shop that already has a secret, the shop
// signature with that secret), stores a new secret as pending and returns it with the proof.
// Authentication failures match models.ErrUnauthorized; a query without the three
// parameters is a *models.ValidationError.
func (r *Registrar) Register(ctx context.Context, rawQuery string, h http.Header) (RegisterResponse, error) {
	if r.AppSecret == "" {
		return RegisterResponse{}, errors.New("shopware: register: the app secret is not configured")
	}
	q, _ := url.ParseQuery(rawQuery) // on a bad escape the raw query can still be verified
	shopID, shopURL, stamp := q.Get("shop-id"), q.Get("shop-url"), q.Get("timestamp")
	// Shopware signs the query as it sent it; the PHP SDK rebuilds it from the decoded
	// values, so a query that a proxy re-encoded still verifies in that form.
	rebuilt := []byte(fmt.Sprintf("shop-id=%s&shop-url=%s&timestamp=%s", shopID, shopURL, stamp))
	if err := checkSignature(h.Get(appSignatureHeader), []byte(rawQuery), []string{r.AppSecret}, rebuilt); err != nil {
		return RegisterResponse{}, fmt.Errorf("shopware: register: app signature: %w", err)
	}

	var v models.ValidationError
	if shopID == "" {
		v.Add("shop-id", "is required")
	}
	if u, err := url.Parse(shopURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.Add("shop-url", "must be an absolute http(s) URL")
	} else if msg := r.refusedURL(shopURL); msg != "" {
		v.Add("shop-url", "%s", msg)
	}
	sent, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		v.Add("timestamp", "must be Unix seconds")
	}
	if err := v.Err(); err != nil {
		return RegisterResponse{}, err
	}
	now := r.now()
	if err := checkFresh(time.Unix(sent, 0), now, r.tolerance()); err != nil {
		return RegisterResponse{}, fmt.Errorf("shopware: register: %w", err)
	}

	shop, err := r.Store.ShopByExternalID(ctx, models.PlatformShopware, shopID)
	switch {
	case errors.Is(err, models.ErrNotFound):
		shop = &models.Shop{
			Key:        shopKey(shopID),
			Platform:   models.PlatformShopware,
			Name:       hostOf(shopURL),
			ExternalID: shopID,
			Source:     "registration",
		}
	case err != nil:
		return RegisterResponse{}, fmt.Errorf("shopware: register: find shop: %w", err)
	default:
		// Anyone holding the app secret could otherwise take over a known shop (its
		// webhooks and where our API calls go), so the shop must also prove it holds its
		// current secret. A shop that never confirmed has none and registers afresh.
		if current := currentSecret(shop); current != "" {
			if err := checkSignature(h.Get(shopSignatureHeader), []byte(rawQuery), []string{current}, rebuilt); err != nil {
				return RegisterResponse{}, fmt.Errorf("shopware: register: known shop, shop signature: %w", err)
			}
		}
	}

	// A new secret every time, also for a known shop: it takes effect only on confirmation,
	// so an unfinished handshake leaves the working secret alone.
	secret, err := r.newSecret()
	if err != nil {
		return RegisterResponse{}, fmt.Errorf("shopware: register: %w", err)
	}
	shop.Secrets.Pending = secret
	shop.Secrets.PendingURL = shopURL
	if err := r.Store.SaveShop(ctx, shop); err != nil {
		return RegisterResponse{}, fmt.Errorf("shopware: register: save shop: %w", err)
	}
	return RegisterResponse{
		Proof:           signHex(r.AppSecret, []byte(shopID+shopURL+r.AppName)),
		Secret:          secret,
		ConfirmationURL: r.ConfirmURL,
	}, nil
}

// Confirm handles the POST to ConfirmURL. It verifies the body's signature with the
// pending secret (and, when it replaces a secret, the previous-signature header with that
// one), then makes the pending secret and URL current, keeps the replaced secret valid for
// Grace and stores the Admin API credentials. Authentication failures match
// models.ErrUnauthorized; broken JSON is a *models.MalformedError and missing fields a
// *models.ValidationError.
func (r *Registrar) Confirm(ctx context.Context, h http.Header, body []byte) error {
	var req struct {
		APIKey    string `json:"apiKey"`
		SecretKey string `json:"secretKey"`
		// Timestamp is a string in Shopware's request; a number is accepted too.
		Timestamp json.RawMessage `json:"timestamp"`
		ShopURL   string          `json:"shopUrl"`
		ShopID    string          `json:"shopId"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return decodeError(err, "")
	}
	if req.ShopID == "" {
		v := &models.ValidationError{}
		v.Add("shopId", "is required")
		return v
	}

	shop, err := r.Store.ShopByExternalID(ctx, models.PlatformShopware, req.ShopID)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return fmt.Errorf("shopware: confirm: unknown shop: %w", models.ErrUnauthorized)
	case err != nil:
		return fmt.Errorf("shopware: confirm: find shop: %w", err)
	}
	pending := shop.Secrets.Pending
	if pending == "" {
		return fmt.Errorf("shopware: confirm: no registration is pending: %w", models.ErrUnauthorized)
	}
	// Verify the raw bytes: Shopware signs PHP's json_encode output (with \/ escapes),
	// which no re-encoding would reproduce.
	if err := checkSignature(h.Get(shopSignatureHeader), body, []string{pending}); err != nil {
		return fmt.Errorf("shopware: confirm: shop signature: %w", err)
	}
	old := currentSecret(shop)
	if old != "" {
		if err := checkSignature(h.Get(previousSignatureHeader), body, []string{old}); err != nil {
			return fmt.Errorf("shopware: confirm: previous shop signature: %w", err)
		}
	}

	var v models.ValidationError
	if req.APIKey == "" {
		v.Add("apiKey", "is required")
	}
	if req.SecretKey == "" {
		v.Add("secretKey", "is required")
	}
	if shop.Secrets.PendingURL == "" && req.ShopURL != "" {
		// A registration stored without its URL: the confirmation's is used.
		if msg := r.refusedURL(req.ShopURL); msg != "" {
			v.Add("shopUrl", "%s", msg)
		}
	}
	sent, ok := unixSeconds(req.Timestamp)
	if !ok {
		v.Add("timestamp", "must be Unix seconds")
	}
	if err := v.Err(); err != nil {
		return err
	}
	now := r.now()
	if err := checkFresh(time.Unix(sent, 0), now, r.tolerance()); err != nil {
		return fmt.Errorf("shopware: confirm: %w", err)
	}

	s := &shop.Secrets
	// Only the secret being replaced stays valid, for Grace; older ones are dropped so
	// that a second rotation does not extend them.
	s.Webhook, s.PreviousUntil = []string{pending}, time.Time{}
	if old != "" && old != pending {
		s.Webhook = append(s.Webhook, old)
		s.PreviousUntil = now.Add(r.grace())
	}
	shop.URL = cmp.Or(s.PendingURL, req.ShopURL)
	s.Pending, s.PendingURL = "", ""
	// Shopware issues new integration credentials with every registration.
	s.APIKey, s.APISecret = req.APIKey, req.SecretKey
	if err := r.Store.SaveShop(ctx, shop); err != nil {
		return fmt.Errorf("shopware: confirm: save shop: %w", err)
	}
	return nil
}

// Uninstalled forgets the registration of a shop whose merchant removed the
// app (app.deleted): its webhook secrets, any unfinished handshake, and the
// Admin API credentials, which Shopware deleted with the app's integration.
// The shop and its journeys stay. Shopware keeps the shop id but forgets the
// secret, so an installation after this registers like a new shop, without
// the shop signature a known shop must send; a delivery signed with the old
// secret is refused from now on.
func (r *Registrar) Uninstalled(ctx context.Context, shop *models.Shop) error {
	cur, err := r.Store.ShopByExternalID(ctx, models.PlatformShopware, shop.ExternalID)
	if err != nil {
		return fmt.Errorf("shopware: app removed: find shop: %w", err)
	}
	cur.Secrets.Webhook, cur.Secrets.PreviousUntil = nil, time.Time{}
	cur.Secrets.Pending, cur.Secrets.PendingURL = "", ""
	cur.Secrets.APIKey, cur.Secrets.APISecret = "", ""
	if err := r.Store.SaveShop(ctx, cur); err != nil {
		return fmt.Errorf("shopware: app removed: save shop: %w", err)
	}
	return nil
}

// refusedURL says why the outbound policy refuses a shop URL, or "" when it
// does not (or when no policy is set).
func (r *Registrar) refusedURL(raw string) string {
	if r.Egress == nil {
		return ""
	}
	err := egress.CheckURL(raw, *r.Egress)
	if err == nil {
		return ""
	}
	msg := "is not a URL Treue may call: " + strings.ReplaceAll(err.Error(), "egress: ", "")
	var be *egress.BlockedError
	if errors.As(err, &be) && be.Private {
		msg += " (a shop on Treue's own network needs dispatch.allow_private or dispatch.allow_hosts)"
	}
	return msg
}

func (r *Registrar) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Registrar) grace() time.Duration {
	if r.Grace > 0 {
		return r.Grace
	}
	return defaultGrace
}

func (r *Registrar) tolerance() time.Duration {
	if r.Tolerance > 0 {
		return r.Tolerance
	}
	return defaultTolerance
}

// newSecret returns 64 random bytes in hex, as the PHP SDK does (bin2hex(random_bytes(64))).
func (r *Registrar) newSecret() (string, error) {
	src := r.Rand
	if src == nil {
		src = rand.Reader
	}
	b := make([]byte, shopSecretBytes)
	if _, err := io.ReadFull(src, b); err != nil {
		return "", fmt.Errorf("generate shop secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// currentSecret is the secret the shop signs with today, empty before its first confirmation.
func currentSecret(s *models.Shop) string {
	if len(s.Secrets.Webhook) == 0 {
		return ""
	}
	return s.Secrets.Webhook[0]
}

// shopKey derives the Treue shop key from the Shopware shop id: "sw-" and the id in lower
// case, with anything outside [a-z0-9_-] replaced, cut to the 63 characters a key may have.
func shopKey(shopID string) string {
	key := []byte("sw-" + strings.ToLower(shopID))
	for i, c := range key {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			key[i] = '-'
		}
	}
	if len(key) > 63 {
		key = key[:63]
	}
	return string(key)
}

// hostOf names a new shop after its host, the most recognisable part of its URL.
func hostOf(shopURL string) string {
	if u, err := url.Parse(shopURL); err == nil && u.Host != "" {
		return u.Host
	}
	return shopURL
}

// unixSeconds reads a timestamp sent as a JSON string ("1718000000") or number.
func unixSeconds(raw json.RawMessage) (int64, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		s = string(raw)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
