package shopware

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

// fixtures returns every testdata/*.json body, the seed corpus of the fuzz targets.
func fixtures(f *testing.F) [][]byte {
	f.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(names) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzParse checks that Parse never panics, fails only with the two documented error
// types, and never returns an event that does not validate.
func FuzzParse(f *testing.F) {
	for _, b := range fixtures(f) {
		f.Add(b, "")
	}
	f.Add([]byte(`{"data":{"event":"checkout.order.placed","payload":{"order":{"lineItems":[{"payload":[1]}]}}}}`), "h")
	f.Add([]byte(`{"data":{"event":"newsletter.confirm","payload":{"newsletterRecipient":[]}},"source":{"eventId":"e"}}`), "")
	f.Fuzz(func(t *testing.T, body []byte, eventID string) {
		h := http.Header{}
		h.Set(eventIDHeader, eventID)
		got, err := New(0).Parse(&plugin.Delivery{Header: h, Body: body})
		if err != nil {
			var m *models.MalformedError
			var v *models.ValidationError
			if !errors.As(err, &m) && !errors.As(err, &v) {
				t.Fatalf("error %T %v is neither malformed nor a validation error", err, err)
			}
			return
		}
		if got.DeliveryID == "" {
			t.Fatal("parsed without a delivery id")
		}
		for _, e := range got.Events {
			if err := e.Validate(); err != nil {
				t.Fatalf("invalid event %+v: %v", e, err)
			}
		}
		for _, l := range got.StockLookups {
			if !shopwareID.MatchString(l.Ref) || l.At.IsZero() {
				t.Fatalf("stock lookup %+v names no product or time", l)
			}
		}
	})
}

// FuzzVerify checks that Verify fails closed: whatever the body and header, it succeeds
// only when the header is the body's HMAC under the shop's secret.
func FuzzVerify(f *testing.F) {
	for _, b := range fixtures(f) {
		f.Add(b, signHex(fixtureSecret, b))
		f.Add(b, "")
	}
	f.Add([]byte(`{"timestamp":1781080874}`), signHex(fixtureSecret, []byte(`{"timestamp":1781080874}`)))
	now := unix(1781080874)
	shop := &models.Shop{Key: "sw-fuzz", Platform: models.PlatformShopware, Secrets: models.ShopSecrets{Webhook: []string{fixtureSecret}}}
	f.Fuzz(func(t *testing.T, body []byte, signature string) {
		h := http.Header{}
		h.Set(shopSignatureHeader, signature)
		err := New(time.Hour*24*365*10).Verify(context.Background(), &plugin.Delivery{Header: h, Body: body}, shop, now)
		if err != nil {
			if !errors.Is(err, models.ErrUnauthorized) {
				t.Fatalf("error %v does not match ErrUnauthorized", err)
			}
			return
		}
		if hmacHex(fixtureSecret, string(body)) != normalizeHex(signature) {
			t.Fatalf("accepted a body with a signature that is not its HMAC")
		}
	})
}

// FuzzRegister checks the registration request: no panic, only the documented errors,
// and success only with a valid app signature.
func FuzzRegister(f *testing.F) {
	now := time.Date(2026, 6, 10, 8, 0, 0, 0, time.UTC)
	q, h := registration(fixtureShopID, now, "")
	f.Add(q, h.Get(appSignatureHeader), "")
	q, h = registration("Known123", now, "current")
	f.Add(q, h.Get(appSignatureHeader), h.Get(shopSignatureHeader))
	f.Add("shop-id=%zz&shop-url=https://shop.example&timestamp=1781078400", hmacHex(testAppSecret, "shop-id=%zz&shop-url=https://shop.example&timestamp=1781078400"), "")
	f.Fuzz(func(t *testing.T, rawQuery, appSig, shopSig string) {
		store := newMemStore()
		_ = store.SaveShop(context.Background(), &models.Shop{
			Key: "sw-known", Platform: models.PlatformShopware, ExternalID: "Known123",
			Secrets: models.ShopSecrets{Webhook: []string{"current"}},
		})
		h := http.Header{}
		h.Set(appSignatureHeader, appSig)
		h.Set(shopSignatureHeader, shopSig)
		resp, err := newRegistrar(store, &clock{t: now}).Register(context.Background(), rawQuery, h)
		if err != nil {
			if !errors.Is(err, models.ErrUnauthorized) && !errors.Is(err, models.ErrInvalid) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(resp.Secret) != 128 {
			t.Fatalf("secret of %d characters", len(resp.Secret))
		}
	})
}

// FuzzConfirm checks the confirmation: no panic, only the documented errors.
func FuzzConfirm(f *testing.F) {
	now := time.Date(2026, 6, 10, 8, 0, 0, 0, time.UTC)
	body, h := confirmation("New456", now, "pending", "")
	f.Add(body, h.Get(shopSignatureHeader), "")
	body, h = confirmation("Known123", now, "pending", "current")
	f.Add(body, h.Get(shopSignatureHeader), h.Get(previousSignatureHeader))
	f.Fuzz(func(t *testing.T, body []byte, sig, prev string) {
		store := newMemStore()
		for _, s := range []models.Shop{
			{Key: "sw-new", Platform: models.PlatformShopware, ExternalID: "New456", Secrets: models.ShopSecrets{Pending: "pending"}},
			{Key: "sw-known", Platform: models.PlatformShopware, ExternalID: "Known123", Secrets: models.ShopSecrets{Pending: "pending", Webhook: []string{"current"}}},
		} {
			_ = store.SaveShop(context.Background(), &s)
		}
		h := http.Header{}
		h.Set(shopSignatureHeader, sig)
		h.Set(previousSignatureHeader, prev)
		err := newRegistrar(store, &clock{t: now}).Confirm(context.Background(), h, body)
		if err != nil && !errors.Is(err, models.ErrUnauthorized) && !errors.Is(err, models.ErrInvalid) {
			t.Fatalf("unexpected error %v", err)
		}
		if err == nil && hmacHex("pending", string(body)) != normalizeHex(sig) {
			t.Fatal("confirmed without the pending secret's signature")
		}
	})
}

// normalizeHex reads a hex signature the way checkSignature does.
func normalizeHex(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
