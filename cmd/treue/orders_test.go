package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/treue/treue/models"
)

// TestShopify_OrdersThatAreNoSales sends Shopify webhooks through the real
// endpoint and processor, with the example rules, on both databases: a
// cancelled order does not raise total spend (and its cancellation, arriving
// twice, is one step), a test order is on the timeline, flagged, but neither
// in the profile nor planning anything, and a refund from refunds/create
// without any currency shows its order's.
func TestShopify_OrdersThatAreNoSales(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		const secret, domain = "shopify-app-secret", "kaffee-roesterei.myshopify.com"
		e := newEnv(t, driver, "  - key: acme-us\n    platform: shopify\n    domain: "+domain+"\n    secret: "+secret+
			"\nrules:\n  file: "+exampleRules(t, t.TempDir())+"\n")
		support := token(t, e, "support", "support")
		in := e.serve(t)
		send := func(topic, fixture, id string) {
			t.Helper()
			body, err := readFixture("shopify", fixture)
			if err != nil {
				t.Fatal(err)
			}
			code, b := do(t, "POST", in.URL+"/webhooks/shopify", http.Header{
				"X-Shopify-Topic": {topic}, "X-Shopify-Hmac-Sha256": {shopifySig(secret, body)}, "X-Shopify-Shop-Domain": {domain},
				"X-Shopify-Webhook-Id": {id}, "X-Shopify-Api-Version": {"2025-07"}, "Content-Type": {"application/json"},
			}, body)
			if code != 200 {
				t.Fatalf("%s %s: %d %s", topic, fixture, code, b)
			}
		}
		send("orders/create", "orders_create.json", "w-1") // Anna's order 1042, 59.80 EUR
		send("orders/paid", "orders_create.json", "w-2")
		send("orders/create", "orders_paid_test.json", "w-3") // her test order 1043, through the Bogus gateway
		send("orders/paid", "orders_paid_test.json", "w-4")
		// Jon's 243.00 USD order, already cancelled and voided when orders/create
		// goes out; orders/cancelled follows below.
		send("orders/create", "orders_cancelled.json", "w-5")
		send("refunds/create", "refunds_create_no_currency.json", "w-6") // 14.95 of Anna's 1042, no currency
		waitDrained(t, e)
		base := in.URL + "/api/v1/shops/acme-us/customers"
		find := func(email string) string {
			t.Helper()
			code, m := apiGet(t, base+"?q="+url.QueryEscape(email), support)
			hits, _ := m["customers"].([]any)
			if code != 200 || len(hits) != 1 {
				t.Fatalf("q=%s: %d %v", email, code, m)
			}
			return hits[0].(map[string]any)["id"].(string)
		}
		timeline := func(id string) []map[string]any {
			t.Helper()
			code, m := apiGet(t, base+"/"+id+"/timeline?types=events&limit=200", support)
			if code != 200 {
				t.Fatalf("timeline: %d %v", code, m)
			}
			var out []map[string]any
			for _, it := range m["items"].([]any) {
				out = append(out, it.(map[string]any))
			}
			return out
		}
		order := func(it map[string]any) map[string]any {
			o, _ := it["data"].(map[string]any)["order"].(map[string]any)
			return o
		}

		t.Run("CancelledOrderIsNoSpend", func(t *testing.T) {
			jon := find("jon@example.com")
			check := func(when string) {
				t.Helper()
				code, p := apiGet(t, base+"/"+jon, support)
				if code != 200 || p["total_spent"] != "0.00" || p["order_count"].(float64) != 0 || p["stage"] != "new" || p["last_order_at"] != nil {
					t.Fatalf("%s: profile of a customer whose only order was cancelled: %d %v", when, code, p)
				}
				var types []string
				for _, it := range timeline(jon) {
					types = append(types, it["type"].(string))
				}
				slices.Sort(types)
				if strings.Join(types, ",") != "order.cancelled,order.placed" {
					t.Fatalf("%s: timeline %v, want the order placed and cancelled once", when, types)
				}
			}
			check("after orders/create")
			send("orders/cancelled", "orders_cancelled.json", "w-7")
			waitDrained(t, e)
			check("after orders/cancelled")
		})

		anna := find("anna.beispiel@example.com")
		t.Run("TestOrderFlaggedNotCounted", func(t *testing.T) {
			code, p := apiGet(t, base+"/"+anna, support)
			// 59.80 less the 14.95 refund; 59 points for 1042 alone.
			if code != 200 || p["order_count"].(float64) != 1 || p["total_spent"] != "44.85" || p["currency"] != "EUR" ||
				p["points_balance"].(float64) != 59 || !strings.HasPrefix(p["last_order_at"].(string), "2026-03-02T09:14:05") {
				t.Fatalf("profile counts the test order: %d %v", code, p)
			}
			flagged := 0
			for _, it := range timeline(anna) {
				o := order(it)
				if o == nil || o["id"] != "5940139491299" {
					continue
				}
				flagged++
				if o["test"] != true || !strings.HasSuffix(it["summary"].(string), "(test order)") {
					t.Errorf("test order's %s not flagged: %v", it["type"], it)
				}
			}
			if flagged != 2 {
				t.Fatalf("%d steps of the test order on the timeline, want placed and paid", flagged)
			}
			st := e.store(t)
			shop, _ := st.ShopByKey(context.Background(), "acme-us")
			prof, err := st.CustomerByIdentity(context.Background(), shop.ID, models.IdentityID, "7029431102139")
			if err != nil {
				t.Fatal(err)
			}
			acts, err := st.CustomerActions(context.Background(), prof.CustomerID)
			if err != nil {
				t.Fatal(err)
			}
			planned := 0
			for _, a := range acts {
				switch a.OrderRef {
				case "5940139491299":
					t.Errorf("action planned for the test order: %s %s %s", a.RuleID, a.Type, a.Status)
				case "5940139491234":
					if a.Status != models.ActionCancelled {
						planned++
					}
				}
			}
			if planned == 0 {
				t.Fatal("nothing planned for the real order: the rules did not run")
			}
		})

		t.Run("RefundShowsCurrency", func(t *testing.T) {
			for _, it := range timeline(anna) {
				if it["type"] != "refund.issued" {
					continue
				}
				r := it["data"].(map[string]any)["refund"].(map[string]any)
				if r["currency"] != "EUR" || it["summary"] != "Refund for order 5940139491234: 14.95 EUR" {
					t.Fatalf("refund on the timeline: %v", it)
				}
				return
			}
			t.Fatal("no refund on the timeline")
		})
	})
}
