package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// TestReplay_UnsignedIDs: Shopify's and Adobe's delivery ids are not
// signed, so a signed body replayed under a new id must be a duplicate; a
// Shopify delivery triggered days ago is no retry and is refused; an order
// body that is not cancelled, sent as orders/cancelled, cancels nothing.
func TestReplay_UnsignedIDs(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		const secret = "shopify-app-secret"
		signer := newAdobeSigner(t, filepath.Base(adobeKeyPath))
		e := newEnv(t, driver, "  - key: acme-us\n    platform: shopify\n    domain: kaffee-roesterei.myshopify.com\n    secret: "+secret+"\n"+
			signer.shop(""))
		in := e.serve(t)
		order := must(readFixture("shopify", "orders_create.json"))
		shopify := func(topic, id string, triggered time.Time, body []byte) (int, string) {
			t.Helper()
			code, b := do(t, "POST", in.URL+"/webhooks/shopify", http.Header{
				"X-Shopify-Topic": {topic}, "X-Shopify-Hmac-Sha256": {shopifySig(secret, body)}, "X-Shopify-Shop-Domain": {"kaffee-roesterei.myshopify.com"},
				"X-Shopify-Webhook-Id": {id}, "X-Shopify-Triggered-At": {triggered.UTC().Format(time.RFC3339Nano)}, "Content-Type": {"application/json"},
			}, body)
			var m map[string]any
			json.Unmarshal(b, &m)
			status, _ := m["status"].(string)
			return code, status
		}
		now := time.Now()
		for _, c := range []struct {
			topic, id string
			at        time.Time
			code      int
			status    string
		}{
			{"orders/create", "w-1", now, 200, "stored"},
			{"orders/create", "w-1", now, 200, "duplicate"},                     // the sender's retry
			{"orders/create", "w-replayed", now, 200, "duplicate"},              // the same signed body under a new id
			{"orders/paid", "w-2", now, 200, "stored"},                          // another topic of the same order
			{"orders/cancelled", "w-3", now, 200, "ignored"},                    // the body is not a cancelled order
			{"orders/create", "w-old", now.Add(-72 * time.Hour), 401, ""},       // triggered three days ago
			{"orders/create", "w-future", now.Add(3 * time.Hour), 401, ""},      // or hours ahead
			{"orders/create", "w-4", now.Add(-3 * time.Hour), 200, "duplicate"}, // a late genuine retry is still accepted
		} {
			if code, status := shopify(c.topic, c.id, c.at, order); code != c.code || status != c.status {
				t.Fatalf("%s %s: %d %q, want %d %q", c.topic, c.id, code, status, c.code, c.status)
			}
		}

		body := must(readFixture("adobe", "order_new.json"))
		for i, want := range []string{"stored", "duplicate"} {
			code, b := do(t, "POST", in.URL+"/webhooks/adobe/acme-eu", signer.headers(t, body, fmt.Sprintf("ev-%d", i)), body)
			var m map[string]any
			json.Unmarshal(b, &m)
			if code != 200 || m["status"] != want {
				t.Fatalf("Adobe event under id ev-%d: %d %s, want %s", i, code, b, want)
			}
		}
	})
}
