package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
)

func apiDo(t *testing.T, method, u, tok, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	decodeJSON(resp, &m)
	return resp.StatusCode, m
}

// privacyJourney: consent, an order of beans (a reorder reminder waits), delivered.
func privacyJourney(t *testing.T, url string, prefix string) {
	t.Helper()
	t0 := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
	at := func(h int) string { return t0.Add(time.Duration(h) * time.Hour).Format(time.RFC3339) }
	cust := `"customer":{"id":"c-5","email":"Clara.Privat@example.org","first_name":"Clara","last_name":"Privatmann"}`
	for i, body := range []string{
		fmt.Sprintf(`{"type":"consent.granted","timestamp":%q,"data":{%s,"consent":{"channel":"email"}}}`, at(0), cust),
		fmt.Sprintf(`{"type":"order.placed","timestamp":%q,"data":{%s,"order":{"id":"o-9","placed_at":%q,"currency":"EUR","total":"29.90","items":[{"sku":"BEAN-ESP-1KG","name":"Espresso Milano","category":"beans","quantity":1,"unit_price":"29.90"}]}}}`, at(1), cust, at(1)),
		fmt.Sprintf(`{"type":"order.paid","timestamp":%q,"data":{%s,"order":{"id":"o-9"}}}`, at(2), cust),
		fmt.Sprintf(`{"type":"shipment.delivered","timestamp":%q,"data":{%s,"order":{"id":"o-9"},"shipment":{"id":"s","delivered_at":%q}}}`, at(20), cust, at(20)),
	} {
		if code, m := post(t, url, fmt.Sprintf("%s-%d", prefix, i), body); code != 200 {
			t.Fatalf("%d %v", code, m)
		}
	}
}

func statusOf(actions []models.Action, rule string) string {
	for _, a := range actions {
		if a.RuleID == rule {
			return string(a.Status) + ":" + a.Reason
		}
	}
	return "none"
}

// TestDataProtection: consent, opt-outs, export, erasure and the personal
// data kept out of logs, through the API and the CLI, on both databases.
func TestDataProtection(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		dir := t.TempDir()
		e := newEnv(t, driver, "log:\n  level: debug\nrules:\n  file: "+exampleRules(t, dir)+"\n")
		support := token(t, e, "support-1", "support")
		admin := token(t, e, "admin-1", "admin")
		in := e.serve(t)
		hook := in.URL + "/webhooks/standard/acme"
		privacyJourney(t, hook, "a")
		waitDrained(t, e)
		st := e.store(t)
		ctx := context.Background()
		shop, _ := st.ShopByKey(ctx, "acme")
		prof, err := st.CustomerByIdentity(ctx, shop.ID, models.IdentityID, "c-5")
		if err != nil {
			t.Fatal(err)
		}
		acts, _ := st.CustomerActions(ctx, prof.CustomerID)
		if s := statusOf(acts, "reorder-reminder"); !strings.HasPrefix(s, "scheduled") {
			t.Fatalf("reminder %s", s)
		}
		base := in.URL + "/api/v1/shops/acme/customers/" + prof.PublicID

		t.Run("OptOut", func(t *testing.T) {
			code, m := apiDo(t, "POST", base+"/opt-outs", support, `{"category":"beans"}`)
			if code != 200 || m["cancelled_actions"].(float64) < 1 {
				t.Fatalf("%d %v", code, m)
			}
			acts, _ := st.CustomerActions(ctx, prof.CustomerID)
			if s := statusOf(acts, "reorder-reminder"); s != "cancelled:category opt-out: beans" {
				t.Fatalf("reminder after opt-out: %s", s)
			}
			_, p := apiDo(t, "GET", base, support, "")
			if fmt.Sprint(p["opted_out_categories"]) != "[beans]" {
				t.Fatalf("profile %v", p["opted_out_categories"])
			}
			if code, _ := apiDo(t, "POST", base+"/opt-outs", support, `{"category":""}`); code != 422 {
				t.Fatalf("empty category: %d", code)
			}
			if code, _ := apiDo(t, "POST", base+"/opt-outs", support, `{"category":`); code != 400 {
				t.Fatalf("broken JSON: %d", code)
			}
			// A body not declared JSON is refused, and records nothing.
			for ct, body := range map[string]string{"text/plain": `{"category":"tea"}`, "application/x-www-form-urlencoded": "category=tea", "": `{"category":"tea"}`} {
				for _, method := range []string{"POST", "DELETE"} {
					req, _ := http.NewRequest(method, base+"/opt-outs", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+support)
					if ct != "" {
						req.Header.Set("Content-Type", ct)
					}
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					var m map[string]any
					decodeJSON(resp, &m)
					if resp.StatusCode != http.StatusUnsupportedMediaType || resp.Header.Get("Content-Type") != "application/problem+json" ||
						!strings.Contains(fmt.Sprint(m["detail"]), "application/json") {
						t.Fatalf("%s opt-outs as %q: %d %s %v", method, ct, resp.StatusCode, resp.Header.Get("Content-Type"), m)
					}
				}
			}
			if code, _ := apiDo(t, "DELETE", base+"/opt-outs?category=beans", support, ""); code != 204 {
				t.Fatalf("undo: %d", code)
			}
			if code, _ := apiDo(t, "DELETE", base+"/opt-outs?category=beans", support, ""); code != 404 {
				t.Fatalf("undo twice: %d", code)
			}
			_, p = apiDo(t, "GET", base, support, "")
			if fmt.Sprint(p["opted_out_categories"]) != "[]" {
				t.Fatalf("profile after undo %v", p["opted_out_categories"])
			}
			// The shop forwards the customer's own choice as a canonical event.
			body := fmt.Sprintf(`{"type":"category.opted_out","timestamp":%q,"data":{"customer":{"id":"c-5"},"opt_out":{"category":"tea"}}}`, time.Now().UTC().Format(time.RFC3339))
			if code, m := post(t, hook, "optout-tea", body); code != 200 {
				t.Fatalf("%d %v", code, m)
			}
			waitDrained(t, e)
			_, p = apiDo(t, "GET", base, support, "")
			if fmt.Sprint(p["opted_out_categories"]) != "[tea]" {
				t.Fatalf("profile after the event %v", p["opted_out_categories"])
			}
		})
		t.Run("ConsentRevokedCancelsMarketing", func(t *testing.T) {
			body := fmt.Sprintf(`{"type":"consent.revoked","timestamp":%q,"data":{"customer":{"id":"c-5"},"consent":{"channel":"email"}}}`, time.Now().UTC().Format(time.RFC3339))
			if code, m := post(t, hook, "revoke", body); code != 200 {
				t.Fatalf("%d %v", code, m)
			}
			waitDrained(t, e)
			acts, _ := st.CustomerActions(ctx, prof.CustomerID)
			for _, a := range acts {
				if a.Marketing && (a.Status == models.ActionScheduled || a.Status == models.ActionRetrying) {
					t.Fatalf("marketing action still pending after consent was revoked: %s %s", a.RuleID, a.Status)
				}
			}
		})
		t.Run("Export", func(t *testing.T) {
			code, x := apiDo(t, "GET", base+"/export", support, "")
			if code != 200 {
				t.Fatalf("%d %v", code, x)
			}
			for _, k := range []string{"identities", "events", "actions", "consent_history", "points_ledger", "opt_outs", "access_log", "attempts"} {
				if _, ok := x[k].([]any); !ok {
					t.Fatalf("export lacks %s: %v", k, x[k])
				}
			}
			if len(x["consent_history"].([]any)) != 2 || len(x["points_ledger"].([]any)) != 1 || len(x["events"].([]any)) < 5 {
				t.Fatalf("export incomplete: consent %v, points %v", x["consent_history"], x["points_ledger"])
			}
			out, err := e.run(t, "customers", "export", "--shop", "acme", "--email", "clara.privat@EXAMPLE.org")
			var cli map[string]any
			if err != nil || json.Unmarshal([]byte(out), &cli) != nil || len(cli["events"].([]any)) != len(x["events"].([]any)) {
				t.Fatalf("CLI export: %v %.200s", err, out)
			}
		})
		t.Run("Erase", func(t *testing.T) {
			if code, _ := apiDo(t, "DELETE", base, support, ""); code != 403 {
				t.Fatalf("support may not erase: %d", code)
			}
			code, m := apiDo(t, "DELETE", base, admin, "")
			if code != 200 {
				t.Fatalf("%d %v", code, m)
			}
			if code, _ := apiDo(t, "GET", base, support, ""); code != 404 {
				t.Fatalf("erased profile still readable: %d", code)
			}
			if _, err := st.CustomerByIdentity(ctx, shop.ID, models.IdentityEmail, "clara.privat@example.org"); err == nil {
				t.Fatal("identity survived the erasure")
			}
			if left, _ := st.CustomerActions(ctx, prof.CustomerID); len(left) != 0 {
				t.Fatalf("%d actions survived; none may be sent", len(left))
			}
			it, err := st.InboxByDelivery(ctx, shop.ID, "a-1")
			if err != nil || it.Body != nil {
				t.Fatalf("raw payload kept: %v %q", err, it.Body)
			}
			// A later webhook about the same person starts a fresh profile.
			privacyJourney(t, hook, "b")
			waitDrained(t, e)
			fresh, err := st.CustomerByIdentity(ctx, shop.ID, models.IdentityID, "c-5")
			if err != nil || fresh.PublicID == prof.PublicID || fresh.OrderCount != 1 {
				t.Fatalf("fresh profile: %+v %v", fresh, err)
			}
			out, err := e.run(t, "customers", "erase", "--shop", "acme", "--email", "clara.privat@example.org", "--yes")
			if err != nil || !strings.Contains(out, "erased:") {
				t.Fatalf("CLI erase: %q %v", out, err)
			}
		})
		logs := in.Logs.String()
		for _, secret := range []string{"Clara", "Privatmann", "clara.privat", "Clara.Privat", acmeSecret, support, admin} {
			if strings.Contains(logs, secret) {
				t.Errorf("the debug log contains %q", secret)
			}
		}
		if !strings.Contains(logs, `"level":"DEBUG"`) {
			t.Error("the log is not at debug level; the check above proves nothing")
		}
	})
}

// TestShopifyRedact: customers/redact erases the customer.
func TestShopifyRedact(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		const secret = "shopify-app-secret"
		e := newEnv(t, driver, "  - key: acme-us\n    platform: shopify\n    domain: kaffee-roesterei.myshopify.com\n    secret: "+secret+"\n")
		in := e.serve(t)
		send := func(topic, fixture, id string) {
			body := must(readFixture("shopify", fixture))
			code, _ := do(t, "POST", in.URL+"/webhooks/shopify", http.Header{
				"X-Shopify-Topic": {topic}, "X-Shopify-Hmac-Sha256": {shopifySig(secret, body)}, "X-Shopify-Shop-Domain": {"kaffee-roesterei.myshopify.com"},
				"X-Shopify-Webhook-Id": {id}, "Content-Type": {"application/json"}}, body) // no X-Shopify-Triggered-At: older subscriptions lack it
			if code != 200 {
				t.Fatalf("%s: %d", topic, code)
			}
		}
		send("orders/create", "orders_create.json", "w-1")
		waitDrained(t, e)
		st := e.store(t)
		shop, _ := st.ShopByKey(context.Background(), "acme-us")
		ids, _ := st.ShopCustomerIDs(context.Background(), shop.ID)
		if len(ids) != 1 {
			t.Fatalf("%d customers before the redact", len(ids))
		}
		send("customers/redact", "customers_redact.json", "w-2")
		waitDrained(t, e)
		if ids, _ := st.ShopCustomerIDs(context.Background(), shop.ID); len(ids) != 0 {
			t.Fatalf("%d customers after customers/redact", len(ids))
		}
	})
}
