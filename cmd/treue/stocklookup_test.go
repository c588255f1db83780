package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin/shopify"
)

// fakeStockAPI is the part of the shops' Admin APIs the stock lookups read:
// Shopware's token and product endpoints, Shopify's inventory item and
// levels. available is what each product (Shopware id, Shopify inventory
// item id) can sell now; a product it does not know answers 404.
type fakeStockAPI struct {
	srv       *httptest.Server
	mu        sync.Mutex
	sku       map[string]string
	available map[string]int
	reads     []string
}

func newFakeStockAPI(t *testing.T) *fakeStockAPI {
	f := &fakeStockAPI{sku: map[string]string{}, available: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeStockAPI) set(id, sku string, available int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sku[id], f.available[id] = sku, available
}

func (f *fakeStockAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	p := r.URL.Path
	if p == "/api/oauth/token" {
		var in map[string]string
		if json.NewDecoder(r.Body).Decode(&in) != nil || in["client_id"] != "SWIASTOCK" || in["client_secret"] != "sw-api-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"token_type":"Bearer","expires_in":600,"access_token":"sw-token"}`)
		return
	}
	sw := strings.HasPrefix(p, "/api/")
	if (sw && r.Header.Get("Authorization") != "Bearer sw-token") || (!sw && r.Header.Get("X-Shopify-Access-Token") != "shpat_stock") {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f.reads = append(f.reads, r.Method+" "+r.URL.RequestURI())
	api := "/admin/api/" + shopify.APIVersion
	var id string
	switch {
	case strings.HasPrefix(p, "/api/product/"):
		id = strings.TrimPrefix(p, "/api/product/")
	case strings.HasPrefix(p, api+"/inventory_items/"):
		id = strings.TrimSuffix(strings.TrimPrefix(p, api+"/inventory_items/"), ".json")
	case p == api+"/inventory_levels.json":
		id = r.URL.Query().Get("inventory_item_ids")
	}
	sku, ok := f.sku[id]
	if r.Method != http.MethodGet || !ok {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"errors":[{"status":"404","code":"FRAMEWORK__RESOURCE_NOT_FOUND"}]}`)
		return
	}
	n := f.available[id]
	switch {
	case sw:
		fmt.Fprintf(w, `{"data":{"id":%q,"productNumber":%q,"stock":%d,"availableStock":%d}}`, id, sku, n+1, n)
	case strings.Contains(p, "inventory_items"):
		fmt.Fprintf(w, `{"inventory_item":{"id":%s,"sku":%q,"tracked":true}}`, id, sku)
	default:
		// Two locations: the one the webhook named and another that holds none.
		fmt.Fprintf(w, `{"inventory_levels":[{"inventory_item_id":%s,"location_id":1,"available":%d},{"inventory_item_id":%s,"location_id":2,"available":0}]}`, id, n, id)
	}
}

// TestStock_LookupFromShopAPI: a signed Shopware product.written and a
// signed Shopify inventory_levels/update carry no level; Treue stores a
// lookup before answering, reads the product from the shop's Admin API
// (Shopware's availableStock under its productNumber, Shopify's available
// summed over the item's locations under its sku) and records the level as
// a product.stock_changed: the SKU's restock plans the waiting
// subscriber's back-in-stock notice. A duplicate delivery, and the same
// level read again, plan nothing more; a deleted product is dropped.
// extensionSecret signs what a Shopware or Shopify shop's extension posts
// as Standard Webhooks (shops[].standard_secret).
const extensionSecret = "whsec_c3RvY2stZXh0ZW5zaW9uLXNlY3JldC1mb3ItdGVzdHMh"

func TestStock_LookupFromShopAPI(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		const swSecret, swID, sfySecret = "shopware-shop-secret-for-tests", "SwStock000000001", "shopify-app-secret"
		const swProduct, sfyItem, sku = "4f6a8c0e2b4d46f8a0c2e4b6d8f0a2c4", "49148385", "BEAN-ESP-1KG"
		api := newFakeStockAPI(t)
		rulesPath := exampleRules(t, t.TempDir())
		b := must(os.ReadFile(rulesPath))
		b = []byte(strings.Replace(string(b), "    on: stock.available\n", "    on: stock.available\n    quiet_hours: none\n", 1))
		if err := os.WriteFile(rulesPath, b, 0o600); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, driver, "  - key: acme-sw\n    platform: shopware\n    shopware_id: "+swID+"\n    secret: "+swSecret+"\n"+
			"    url: "+api.srv.URL+"\n    api_key: SWIASTOCK\n    api_secret: sw-api-secret\n    standard_secret: "+extensionSecret+"\n"+
			"  - key: acme-us\n    platform: shopify\n    domain: kaffee-roesterei.myshopify.com\n    secret: "+sfySecret+"\n    access_token: shpat_stock\n"+
			"    standard_secret: "+extensionSecret+"\n"+
			"dispatch:\n  allow_hosts: [\"127.0.0.1\"]\n"+
			"rules:\n  file: "+rulesPath+"\n")
		e.shopifyAPI = api.srv.URL
		in := e.serve(t)
		st := e.store(t)
		ctx := context.Background()
		shop := func(key string) *models.Shop {
			s, err := st.ShopByKey(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		sw, sfy := shop("acme-sw"), shop("acme-us")

		shopware := func(fixture, eventID string, edit func(map[string]any)) {
			t.Helper()
			body := refresh(t, fixture, swID, eventID)
			if edit != nil {
				var m map[string]any
				json.Unmarshal(body, &m)
				edit(m)
				body, _ = json.Marshal(m)
			}
			code, b := do(t, "POST", in.URL+"/webhooks/shopware", http.Header{"Shopware-Shop-Signature": {hmacHex(swSecret, string(body))}, "Content-Type": {"application/json"}}, body)
			if code != 200 {
				t.Fatalf("%s: %d %s", fixture, code, b)
			}
		}
		shopifyPost := func(topic, id string, body []byte) {
			t.Helper()
			code, b := do(t, "POST", in.URL+"/webhooks/shopify", http.Header{
				"X-Shopify-Topic": {topic}, "X-Shopify-Hmac-Sha256": {shopifySig(sfySecret, body)}, "X-Shopify-Shop-Domain": {"kaffee-roesterei.myshopify.com"},
				"X-Shopify-Webhook-Id": {id}, "Content-Type": {"application/json"},
			}, body)
			if code != 200 {
				t.Fatalf("%s: %d %s", topic, code, b)
			}
		}
		inventory := func(id string, available int) {
			t.Helper()
			body := fmt.Appendf(nil, `{"inventory_item_id":%s,"location_id":1,"available":%d,"updated_at":%q}`, sfyItem, available, time.Now().UTC().Format(time.RFC3339))
			shopifyPost("inventory_levels/update", id, body)
		}
		// subscribe posts the subscription as the shop's back-in-stock
		// extension or app does: a Standard Webhooks stock.subscribed to the
		// shop's key, signed with its standard_secret.
		subscribe := func(s *models.Shop, customer, email string) {
			t.Helper()
			at := ts(time.Now().UTC().Add(-time.Hour))
			body := fmt.Sprintf(`{"type":"stock.subscribed","timestamp":%q,"data":{"customer":{"id":%q,"email":%q},"subscription":{"sku":%q,"at":%q}}}`, at, customer, email, sku, at)
			if code, m := postWith(t, in.URL+"/webhooks/standard/"+s.Key, extensionSecret, "sub-"+customer, body); code != 200 || m["status"] != "stored" {
				t.Fatalf("subscription of %s to %s: %d %v", customer, s.Key, code, m)
			}
		}
		// The Standard Webhooks route takes a Shopify shop's deliveries only
		// with its standard_secret, and a shop without one not at all.
		refused := `{"type":"stock.subscribed","timestamp":"2026-11-01T10:00:00Z","data":{"customer":{"id":"x"},"subscription":{"sku":"` + sku + `"}}}`
		if code, m := postWith(t, in.URL+"/webhooks/standard/acme-us", acmeSecret, "refused-1", refused); code != 401 {
			t.Fatalf("signed with another shop's secret: %d %v", code, m)
		}
		if code, m := postWith(t, in.URL+"/webhooks/standard/acme-us", "whsec_"+strings.Repeat("QUFB", 8), "refused-2", refused); code != 401 {
			t.Fatalf("signed with a wrong secret: %d %v", code, m)
		}
		lookupsDone := func() {
			t.Helper()
			waitFor(t, func() bool {
				due, err := st.DueStockLookups(ctx, time.Now().Add(24*time.Hour), 10)
				return err == nil && len(due) == 0
			})
			waitDrained(t, e)
		}
		noticesOf := func(s *models.Shop, customer string) []string {
			t.Helper()
			prof, err := st.CustomerByIdentity(ctx, s.ID, models.IdentityID, customer)
			if err != nil {
				t.Fatalf("%s: %v", customer, err)
			}
			acts, err := st.CustomerActions(ctx, prof.CustomerID)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, a := range acts {
				if a.RuleID == "back-in-stock" {
					out = append(out, string(a.Type)+" "+string(a.Status)+" "+a.SKU)
				}
			}
			return out
		}
		level := func(s *models.Shop) int64 {
			t.Helper()
			q, _, ok, err := st.StockLevel(ctx, s.ID, sku)
			if err != nil || !ok {
				t.Fatalf("shop %s has no level of %s: %v", s.Key, sku, err)
			}
			return q
		}

		// Shopware: Anna registers and subscribes while the product is sold out.
		const anna = "f6a7b8c9d0e14fa3b4c5d6e7f8a9b0c1"
		shopware("customer_register.json", "sw-reg", nil)
		waitDrained(t, e)
		subscribe(sw, anna, "anna.schmidt@example.de")
		waitDrained(t, e)
		api.set(swProduct, sku, 0)
		shopware("product_written.json", "sw-w1", nil)
		lookupsDone()
		if q := level(sw); q != 0 {
			t.Fatalf("Shopware level %d, want 0", q)
		}
		// Restocked: the next write's read finds 4 for sale.
		api.set(swProduct, sku, 4)
		shopware("product_written.json", "sw-w2", nil)
		lookupsDone()
		want := []string{"notify scheduled " + sku}
		waitFor(t, func() bool { return fmt.Sprint(noticesOf(sw, anna)) == fmt.Sprint(want) })
		if q := level(sw); q != 4 {
			t.Fatalf("Shopware level %d, want 4", q)
		}
		// The same delivery again, and a write of the same level: one notice.
		shopware("product_written.json", "sw-w2", nil)
		shopware("product_written.json", "sw-w3", nil)
		lookupsDone()
		// A deleted product answers 404: the lookup is dropped, with a log line.
		shopware("product_written.json", "sw-w4", func(m map[string]any) {
			m["data"].(map[string]any)["payload"].([]any)[0].(map[string]any)["primaryKey"] = "9f6a8c0e2b4d46f8a0c2e4b6d8f0a2c4"
		})
		lookupsDone()
		if got := noticesOf(sw, anna); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("Shopware notices after the repeats %v, want %v", got, want)
		}
		waitFor(t, func() bool { return strings.Contains(in.Logs.String(), "stock lookup dropped") })

		// Shopify: the same with an inventory item, whose level is the sum
		// of its locations.
		customer := must(readFixture("shopify", "customers_create.json"))
		shopifyPost("customers/create", "sfy-c1", customer)
		waitDrained(t, e)
		subscribe(sfy, "7029431102139", "anna.beispiel@example.com")
		waitDrained(t, e)
		api.set(sfyItem, sku, 0)
		inventory("sfy-i1", 0)
		lookupsDone()
		if q := level(sfy); q != 0 {
			t.Fatalf("Shopify level %d, want 0", q)
		}
		api.set(sfyItem, sku, 6)
		inventory("sfy-i2", 6)
		lookupsDone()
		waitFor(t, func() bool { return fmt.Sprint(noticesOf(sfy, "7029431102139")) == fmt.Sprint(want) })
		inventory("sfy-i3", 6)
		lookupsDone()
		if got, q := noticesOf(sfy, "7029431102139"), level(sfy); fmt.Sprint(got) != fmt.Sprint(want) || q != 6 {
			t.Fatalf("Shopify notices %v at level %d, want %v at 6", got, q, want)
		}
		api.mu.Lock()
		reads := strings.Join(api.reads, "\n")
		api.mu.Unlock()
		for _, r := range []string{"GET /api/product/" + swProduct, "GET /admin/api/" + shopify.APIVersion + "/inventory_items/" + sfyItem + ".json",
			"GET /admin/api/" + shopify.APIVersion + "/inventory_levels.json?inventory_item_ids=" + sfyItem + "&limit=250"} {
			if !strings.Contains(reads, r) {
				t.Fatalf("no read %q in\n%s", r, reads)
			}
		}
	})
}
