package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/treue/treue/models/store"
)

// edit decodes a JSON body (numbers kept exact: Shopify's ids exceed
// float64), lets fn change it and encodes it again.
func edit(t *testing.T, body []byte, fn func(m map[string]any)) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func obj(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

// oneCustomer checks that the shop has exactly one customer and that their
// journey holds every type in want (as many times as listed).
func oneCustomer(t *testing.T, st *store.Store, shopID int64, want ...string) {
	t.Helper()
	ctx := context.Background()
	ids, err := st.ShopCustomerIDs(ctx, shopID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, id := range ids {
		evs, _ := st.CustomerEvents(ctx, id)
		for _, ev := range evs {
			got = append(got, fmt.Sprintf("%d:%s", id, ev.Type))
		}
	}
	if len(ids) != 1 {
		t.Fatalf("%d customers (%s), want 1", len(ids), strings.Join(got, " "))
	}
	var types []string
	for _, g := range got {
		types = append(types, g[strings.Index(g, ":")+1:])
	}
	slices.Sort(types)
	slices.Sort(want)
	if !slices.Equal(types, want) {
		t.Fatalf("journey %v, want %v", types, want)
	}
}

// TestIdentity_FollowUpsJoinTheOrdersCustomer: an event that names an order
// Treue knows belongs to that order's customer, whatever customer it names,
// for every platform's follow-up events (payment, shipment, return, refund).
func TestIdentity_FollowUpsJoinTheOrdersCustomer(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		const shopifySecret, shopwareSecret, shopwareID = "shopify-app-secret", "shopware-shop-secret-for-tests", "SwShop0000000001"
		signer := newAdobeSigner(t, filepath.Base(adobeKeyPath))
		e := newEnv(t, driver, "  - key: acme-us\n    platform: shopify\n    domain: kaffee-roesterei.myshopify.com\n    secret: "+shopifySecret+"\n"+
			"  - key: acme-sw\n    platform: shopware\n    shopware_id: "+shopwareID+"\n    secret: "+shopwareSecret+"\n"+
			signer.shop(""))
		in := e.serve(t)
		st := e.store(t)
		ctx := context.Background()
		shopID := func(key string) int64 {
			s, err := st.ShopByKey(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			return s.ID
		}

		t.Run("shopify", func(t *testing.T) {
			send := func(topic, id string, body []byte) {
				t.Helper()
				code, b := do(t, "POST", in.URL+"/webhooks/shopify", http.Header{
					"X-Shopify-Topic": {topic}, "X-Shopify-Hmac-Sha256": {shopifySig(shopifySecret, body)}, "X-Shopify-Shop-Domain": {"kaffee-roesterei.myshopify.com"},
					"X-Shopify-Webhook-Id": {id}, "Content-Type": {"application/json"},
				}, body)
				if code != 200 {
					t.Fatalf("%s: %d %s", topic, code, b)
				}
			}
			// Shopify's documented order sample: the account's e-mail
			// (john@) is not the order's (jon@), and the fulfillment names
			// only the order's.
			order := func(id string) []byte {
				return edit(t, must(readFixture("shopify", "orders_create.json")), func(m map[string]any) {
					m["id"], m["email"], m["contact_email"] = json.Number(id), "jon@example.com", "jon@example.com"
					obj(m, "customer")["id"], obj(m, "customer")["email"] = json.Number("115310627314723954"), "john@example.com"
				})
			}
			fulfillment := func(orderID, id string) []byte {
				return edit(t, must(readFixture("shopify", "fulfillments_create.json")), func(m map[string]any) {
					m["id"], m["order_id"], m["email"] = json.Number(id), json.Number(orderID), "jon@example.com"
				})
			}
			send("orders/create", "s-1", order("5940139491234"))
			waitDrained(t, e)
			send("fulfillments/create", "s-2", fulfillment("5940139491234", "5678901234567"))
			send("orders/paid", "s-3", order("5940139491234"))
			send("refunds/create", "s-4", must(readFixture("shopify", "refunds_create.json")))
			send("returns/request", "s-5", must(readFixture("shopify", "returns_request.json")))
			// Out of order: the second order's fulfillment overtakes the
			// order and waits for it instead of starting a customer jon@.
			send("fulfillments/create", "s-6", fulfillment("5940139491300", "5678901234599"))
			send("orders/create", "s-7", order("5940139491300"))
			waitDrained(t, e)
			oneCustomer(t, st, shopID("acme-us"), "order.placed", "order.placed", "order.paid", "shipment.shipped", "shipment.shipped",
				"refund.issued", "return.requested")
		})

		t.Run("standard", func(t *testing.T) {
			url := in.URL + "/webhooks/standard/acme"
			ev := func(typ, customer, extra string) string {
				return `{"type":"` + typ + `","timestamp":"2026-03-02T10:00:00Z","data":{"customer":` + customer +
					`,"order":{"id":"o-1","currency":"EUR","total":"20.00"}` + extra + `}}`
			}
			steps := []string{
				ev("order.placed", `{"id":"c-1","email":"anna@example.org"}`, ""),
				ev("order.paid", `{"email":"billing@example.org"}`, ""),
				ev("shipment.shipped", `{"id":"c-999"}`, `,"shipment":{"id":"sh-1"}`),
				ev("return.received", `{"number":"K-1"}`, `,"return":{"id":"r-1"}`),
				ev("refund.issued", `{"email":"anna@example.org"}`, `,"refund":{"id":"rf-1","amount":"5.00","currency":"EUR"}`),
			}
			for i, s := range steps {
				if code, b := post(t, url, fmt.Sprintf("std-%d", i), s); code != 200 {
					t.Fatalf("step %d: %d %v", i, code, b)
				}
				waitDrained(t, e)
			}
			oneCustomer(t, st, shopID("acme"), "order.placed", "order.paid", "shipment.shipped", "return.received", "refund.issued")
		})

		t.Run("shopware", func(t *testing.T) {
			// Shopware's order events name the customer by the order's
			// snapshot (number and e-mail), which an admin can change later.
			send := func(fixture, eventID string, other bool) {
				t.Helper()
				body := refresh(t, fixture, shopwareID, eventID)
				if other {
					body = edit(t, body, func(m map[string]any) {
						c := obj(m, "data", "payload", "order", "orderCustomer")
						c["email"], c["customerNumber"] = "changed@example.org", "99999"
					})
				}
				code, b := do(t, "POST", in.URL+"/webhooks/shopware", http.Header{"Shopware-Shop-Signature": {hmacHex(shopwareSecret, string(body))}, "Content-Type": {"application/json"}}, body)
				if code != 200 {
					t.Fatalf("%s: %d %s", fixture, code, b)
				}
			}
			send("order_placed.json", "sw-1", false)
			waitDrained(t, e)
			send("order_paid.json", "sw-2", true)
			send("order_shipped.json", "sw-3", true)
			send("order_refunded.json", "sw-4", true)
			waitDrained(t, e)
			ids, _ := st.ShopCustomerIDs(ctx, shopID("acme-sw"))
			if len(ids) != 1 {
				t.Fatalf("%d Shopware customers, want 1", len(ids))
			}
			evs, _ := st.CustomerEvents(ctx, ids[0])
			if len(evs) < 4 {
				t.Fatalf("%d events on the customer, want the order and its 3 follow-ups", len(evs))
			}
		})

		t.Run("adobe", func(t *testing.T) {
			send := func(fixture, eventID string, other bool) {
				t.Helper()
				body := must(readFixture("adobe", fixture))
				if other {
					body = edit(t, body, func(m map[string]any) {
						v := obj(m, "data", "value")
						v["customer_id"] = json.Number("4711")
						if o, ok := v["order"].(map[string]any); ok {
							o["customer_email"], o["customer_id"] = "changed@example.org", json.Number("4711")
						}
						if _, ok := v["customer_email"]; ok {
							v["customer_email"] = "changed@example.org"
						}
					})
				}
				if code, b := do(t, "POST", in.URL+"/webhooks/adobe/acme-eu", signer.headers(t, body, eventID), body); code != 200 {
					t.Fatalf("%s: %d %s", fixture, code, b)
				}
			}
			send("order_new.json", "ad-1", false)
			waitDrained(t, e)
			send("invoice_paid.json", "ad-2", true)
			send("shipment.json", "ad-3", true)
			send("creditmemo.json", "ad-4", true)
			waitDrained(t, e)
			oneCustomer(t, st, shopID("acme-eu"), "order.placed", "order.paid", "shipment.shipped", "refund.issued")
		})
	})
}

// TestShopifyRedact_MatchesTheCustomerID: Shopify's documented
// customers/redact sample names customer 191167 with an e-mail that belongs
// to customer 115310627314723954; nobody is erased, and the log says why
// without the e-mail. The request for the right id erases that customer.
func TestShopifyRedact_MatchesTheCustomerID(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		const secret = "shopify-app-secret"
		e := newEnv(t, driver, "  - key: acme-us\n    platform: shopify\n    domain: kaffee-roesterei.myshopify.com\n    secret: "+secret+"\n")
		in := e.serve(t)
		send := func(topic, id string, body []byte) {
			t.Helper()
			code, b := do(t, "POST", in.URL+"/webhooks/shopify", http.Header{
				"X-Shopify-Topic": {topic}, "X-Shopify-Hmac-Sha256": {shopifySig(secret, body)}, "X-Shopify-Shop-Domain": {"kaffee-roesterei.myshopify.com"},
				"X-Shopify-Webhook-Id": {id}, "Content-Type": {"application/json"}}, body)
			if code != 200 {
				t.Fatalf("%s: %d %s", topic, code, b)
			}
		}
		send("orders/create", "w-1", edit(t, must(readFixture("shopify", "orders_create.json")), func(m map[string]any) {
			obj(m, "customer")["id"], obj(m, "customer")["email"] = json.Number("115310627314723954"), "john@example.com"
		}))
		waitDrained(t, e)
		st := e.store(t)
		shop, _ := st.ShopByKey(context.Background(), "acme-us")
		redact := func(id, customerID string) {
			send("customers/redact", id, []byte(`{"shop_id":954889,"shop_domain":"kaffee-roesterei.myshopify.com","customer":{"id":`+customerID+
				`,"email":"john@example.com","phone":"555-625-1199"},"orders_to_redact":[299938,280263,220458]}`))
			waitDrained(t, e)
		}
		redact("w-2", "191167")
		if ids, _ := st.ShopCustomerIDs(context.Background(), shop.ID); len(ids) != 1 {
			t.Fatalf("%d customers after a redact for another customer id, want 1", len(ids))
		}
		logs := in.Logs.String()
		if !strings.Contains(logs, "erasure request matched no customer") || !strings.Contains(logs, "belongs to a customer with another id") {
			t.Fatalf("the log does not say why nobody was erased:\n%s", logs)
		}
		if strings.Contains(logs, "john@example.com") {
			t.Fatal("the log holds the customer's e-mail")
		}
		redact("w-3", "115310627314723954")
		if ids, _ := st.ShopCustomerIDs(context.Background(), shop.ID); len(ids) != 0 {
			t.Fatalf("%d customers after the redact for their id, want 0", len(ids))
		}
		if logs := in.Logs.String(); !strings.Contains(logs, `"matched_by":"id"`) {
			t.Fatalf("the erasure log does not say what matched:\n%s", logs)
		}
	})
}
