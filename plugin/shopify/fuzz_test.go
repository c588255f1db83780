package shopify

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
)

// FuzzParse checks that Parse never panics, returns only the documented error
// types, and never returns an event that fails validation.
func FuzzParse(f *testing.F) {
	// Every fixture is seeded under the topic it is delivered with.
	fixtureTopics := map[string]string{
		"orders_create.json":                  "orders/create",
		"orders_create_sample.json":           "orders/create",
		"orders_paid_test.json":               "orders/paid",
		"orders_cancelled.json":               "orders/cancelled",
		"orders_fulfilled.json":               "orders/fulfilled",
		"orders_updated.json":                 "orders/updated",
		"fulfillments_create.json":            "fulfillments/create",
		"fulfillments_create_pending.json":    "fulfillments/create",
		"fulfillments_update_delivered.json":  "fulfillments/update",
		"fulfillments_update_in_transit.json": "fulfillments/update",
		"refunds_create.json":                 "refunds/create",
		"refunds_create_no_currency.json":     "refunds/create",
		"returns_request.json":                "returns/request",
		"returns_close.json":                  "returns/close",
		"customers_create.json":               "customers/create",
		"customers_update.json":               "customers/update",
		"customers_redact.json":               "customers/redact",
		"customers_data_request.json":         "customers/data_request",
		"shop_redact.json":                    "shop/redact",
		"checkouts_update.json":               "checkouts/update",
		"inventory_levels_update.json":        "inventory_levels/update",
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		topic, ok := fixtureTopics[filepath.Base(file)]
		if !ok {
			f.Fatalf("fixture %s has no topic in fixtureTopics", file)
		}
		f.Add(topic, body)
	}
	f.Add("orders/create", []byte(`{"id":1e400}`))
	f.Add("orders/paid", []byte(`{"id":"1","email":"a@b","line_items":[{"sku":"x","quantity":-1}]}`))
	f.Add("customers/update", []byte(`{"email_marketing_consent":{"state":"subscribed"}}`))

	f.Fuzz(func(t *testing.T, topic string, body []byte) {
		p, err := New().Parse(delivery(topic, body))
		if err != nil {
			var me *models.MalformedError
			var ve *models.ValidationError
			if !errors.As(err, &me) && !errors.As(err, &ve) {
				t.Fatalf("Parse returned %T %v, want MalformedError or ValidationError", err, err)
			}
			return
		}
		for i := range p.Events {
			if err := p.Events[i].Validate(); err != nil {
				t.Fatalf("event %d does not validate: %v", i, err)
			}
		}
		for _, l := range p.StockLookups {
			if !numericID.MatchString(l.Ref) || l.At.IsZero() {
				t.Fatalf("stock lookup %+v names no inventory item or time", l)
			}
		}
	})
}

// FuzzVerify checks that Verify never panics and accepts a delivery only when
// its header is the HMAC of the body under the shop's secret.
func FuzzVerify(f *testing.F) {
	const secret = "shpss_0123456789abcdef"
	body, err := os.ReadFile(filepath.Join("testdata", "orders_create.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body, sign(secret, body))
	f.Add(body, sign("other", body))
	f.Add([]byte(`{}`), "")
	f.Add([]byte(`{}`), "====")
	f.Add([]byte(`{}`), strings.Repeat("A", 44))

	shop := &models.Shop{ExternalID: testDomain, Secrets: models.ShopSecrets{Webhook: []string{secret}}}
	f.Fuzz(func(t *testing.T, body []byte, signature string) {
		d := delivery("orders/create", body)
		d.Header.Set("X-Shopify-Hmac-Sha256", signature)
		err := New().Verify(context.Background(), d, shop, ts(testTriggeredAt).Add(time.Minute))
		if err != nil {
			if !errors.Is(err, models.ErrUnauthorized) {
				t.Fatalf("Verify = %v, want ErrUnauthorized", err)
			}
			return
		}
		got, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(signature))
		want, _ := base64.StdEncoding.DecodeString(sign(secret, body))
		if !hmac.Equal(got, want) {
			t.Fatalf("Verify accepted a signature that is not the body's HMAC")
		}
	})
}
