package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
)

// TestCrossSell_EndToEnd sends Standard Webhooks through the real endpoint
// with the example rules, on both databases: a dripper delivered to a
// customer who had the dripper's filters (and sent them back) and opted out
// of equipment gets one notify recommending the beans and the kettle, not
// the filters, the grinder or the scale; the timeline says so; ordering the
// beans cancels it, and so does opting out of kettles; a customer without
// consent has it suppressed; and the backtest plans what processing planned.
func TestCrossSell_EndToEnd(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		rulesPath := exampleRules(t, t.TempDir())
		e := newEnv(t, driver, "rules:\n  file: "+rulesPath+"\n")
		support := token(t, e, "support", "support")
		in := e.serve(t)
		hook := in.URL + "/webhooks/standard/acme"
		t0 := time.Now().UTC().Add(-40 * time.Hour).Truncate(time.Second)
		at := func(h float64) string { return ts(t0.Add(time.Duration(h * float64(time.Hour)))) }
		n := 0
		send := func(customer, typ string, h float64, data string) {
			t.Helper()
			n++
			body := fmt.Sprintf(`{"type":%q,"timestamp":%q,"data":{"customer":{"id":%q,"email":"%s@example.org"}%s}}`, typ, at(h), customer, customer, data)
			if code, m := post(t, hook, fmt.Sprintf("xs-%d", n), body); code != 200 {
				t.Fatalf("%s %s: %d %v", customer, typ, code, m)
			}
		}
		order := func(id, number string, h float64, sku string) string {
			return fmt.Sprintf(`,"order":{"id":%q,"number":%q,"placed_at":%q,"currency":"EUR","total":"24.00","items":[{"sku":%q,"quantity":1,"unit_price":"24.00"}]}`, id, number, at(h), sku)
		}
		journey := func(customer, prefix string, consent bool) {
			t.Helper()
			if consent {
				send(customer, "consent.granted", 0, fmt.Sprintf(`,"consent":{"channel":"email","at":%q}`, at(0)))
			}
			send(customer, "category.opted_out", 0.5, `,"opt_out":{"category":"equipment"}`)
			// The filters came first, and went back.
			send(customer, "order.placed", 1, order(prefix+"-1", prefix+"001", 1, "FILTER-V60-02-100"))
			send(customer, "return.received", 5, fmt.Sprintf(`,"order":{"id":%q},"return":{"id":"r-1","received_at":%q}`, prefix+"-1", at(5)))
			send(customer, "order.placed", 10, order(prefix+"-2", prefix+"002", 10, "BREWER-V60-02"))
			send(customer, "order.paid", 10.1, fmt.Sprintf(`,"order":{"id":%q}`, prefix+"-2"))
			send(customer, "shipment.delivered", 30, fmt.Sprintf(`,"order":{"id":%q},"shipment":{"id":"s-2","delivered_at":%q}`, prefix+"-2", at(30)))
			waitDrained(t, e)
		}
		journey("xs-1", "A", true)
		journey("xs-2", "B", false)
		journey("xs-3", "C", true)

		st := e.store(t)
		ctx := context.Background()
		shop, _ := st.ShopByKey(ctx, "acme")
		crossSell := func(customer string) []models.Action {
			t.Helper()
			prof, err := st.CustomerByIdentity(ctx, shop.ID, models.IdentityID, customer)
			if err != nil {
				t.Fatal(err)
			}
			all, err := st.CustomerActions(ctx, prof.CustomerID)
			if err != nil {
				t.Fatal(err)
			}
			var out []models.Action
			for _, a := range all {
				if a.RuleID == "cross-sell-complements" {
					out = append(out, a)
				}
			}
			return out
		}
		acts := crossSell("xs-1")
		if len(acts) != 1 {
			t.Fatalf("cross-sell actions %+v, want one", acts)
		}
		a := acts[0]
		skus, _ := a.Params["skus"].([]any)
		if a.Type != models.ActionNotify || a.Status != models.ActionScheduled || a.SKU != "BEAN-FILTER-500G" || a.Category != "beans" ||
			a.OrderRef != "A-2" || fmt.Sprint(skus) != "[BEAN-FILTER-500G KETTLE-GOOSE]" || a.Params["complement_of"] != "BREWER-V60-02" ||
			a.Params["flow_event"] != "treue.notify" {
			t.Fatalf("recommendation %+v", a)
		}
		// Three days after delivery, or later where quiet hours move it.
		if d := a.DueAt.Sub(t0.Add(30*time.Hour + 72*time.Hour)); d < 0 || d > 11*time.Hour {
			t.Fatalf("recommendation %+v", a)
		}
		if held := crossSell("xs-2"); len(held) != 1 || held[0].Status != models.ActionSuppressed || held[0].Reason != "no_consent" || held[0].SKU != "BEAN-FILTER-500G" {
			t.Fatalf("without consent: %+v, want one suppressed for no_consent", held)
		}

		base := in.URL + "/api/v1/shops/acme/customers"
		code, m := apiGet(t, base+"?q="+url.QueryEscape("xs-1@example.org"), support)
		hits, _ := m["customers"].([]any)
		if code != 200 || len(hits) != 1 {
			t.Fatalf("search: %d %v", code, m)
		}
		id := hits[0].(map[string]any)["id"].(string)
		// The whole timeline: its order events name the order by number.
		code, m = apiGet(t, base+"/"+id+"/timeline?limit=200", support)
		var notes []map[string]any
		for _, it := range m["items"].([]any) {
			if it := it.(map[string]any); it["type"] == "notify" {
				notes = append(notes, it)
			}
		}
		if code != 200 || len(notes) != 1 {
			t.Fatalf("timeline: %d %v", code, m)
		}
		const why = "rule cross-sell-complements on shipment.delivered (order A002) for BEAN-FILTER-500G: recommends BEAN-FILTER-500G and KETTLE-GOOSE to go with BREWER-V60-02"
		if it := notes[0]; it["why"] != why || it["rule_id"] != "cross-sell-complements" {
			t.Fatalf("timeline entry %v\nwant why %q", it, why)
		}

		// Buying the recommended beans before the mail goes out withdraws it.
		send("xs-1", "order.placed", 39, order("A-3", "A003", 39, "BEAN-FILTER-500G"))
		waitDrained(t, e)
		if acts := crossSell("xs-1"); len(acts) != 1 || acts[0].Status != models.ActionCancelled || acts[0].Reason != "same_sku_ordered" {
			t.Fatalf("after ordering the beans: %+v", acts)
		}
		// Opting out of kettles withdraws a mail that would show the kettle,
		// though the beans come first.
		if acts := crossSell("xs-3"); len(acts) != 1 || acts[0].Status != models.ActionScheduled {
			t.Fatalf("xs-3: %+v", acts)
		}
		send("xs-3", "category.opted_out", 39, `,"opt_out":{"category":"kettles"}`)
		waitDrained(t, e)
		if acts := crossSell("xs-3"); len(acts) != 1 || acts[0].Status != models.ActionCancelled || acts[0].Reason != "category_opt_out: recommendations chosen before the opt-out" {
			t.Fatalf("after opting out of kettles: %+v", acts)
		}
		// The metrics count each verdict by its reason's class.
		const rule = "cross-sell-complements"
		waitFor(t, func() bool {
			text := scrape(t, in.URL)
			return metricSum(text, "treue_actions_planned_total", map[string]string{"rule": rule, "status": "suppressed", "reason": "no_consent"}) == 1 &&
				metricSum(text, "treue_actions_cancelled_total", map[string]string{"rule": rule, "reason": "same_sku_ordered"}) == 1 &&
				metricSum(text, "treue_actions_cancelled_total", map[string]string{"rule": rule, "reason": "category_opt_out"}) == 1
		})
		in.Stop(t)

		// The backtest replays the journeys through the same engine.
		rows := func(out string) map[string]string {
			m := map[string]string{}
			for _, l := range strings.Split(out, "\n") {
				if f := strings.Fields(l); len(f) == 4 && strings.Count(f[1], "/") == 2 {
					m[f[0]] = f[1] + " " + f[2] + " " + f[3]
				}
			}
			return m
		}
		out, err := e.run(t, "rules", "simulate", "--shop", "acme", rulesPath)
		if err != nil {
			t.Fatalf("simulate: %v\n%s", err, out)
		}
		if got, want := rows(out)["cross-sell-complements"], "0/1/2 0/1/2 +0"; got != want {
			t.Fatalf("cross-sell-complements: %q, want %q (planned, suppressed, cancelled: the planned ones were cancelled by the order of the beans and the opt-out)\n%s", got, want, out)
		}
		// Without complements for the dripper, the rule would have planned nothing.
		changed := filepath.Join(filepath.Dir(rulesPath), "no-complements.yaml")
		b := must(os.ReadFile(rulesPath))
		src := strings.Replace(string(b), "    complements: [FILTER-V60-02-100, GRINDER-HAND, BEAN-FILTER-500G, KETTLE-GOOSE]\n", "", 1)
		src = strings.Replace(src, "    complements: [SCALE-BREW]\n", "    complements: []\n", 1)
		if src == string(b) {
			t.Fatal("the example's complements were not found")
		}
		os.WriteFile(changed, []byte(src), 0o600)
		out, err = e.run(t, "rules", "simulate", "--shop", "acme", changed)
		if err != nil {
			t.Fatalf("simulate: %v\n%s", err, out)
		}
		if got := rows(out)["cross-sell-complements"]; got != "0/0/0 0/1/2 +0" {
			t.Fatalf("without complements: %q\n%s", got, out)
		}
	})
}
