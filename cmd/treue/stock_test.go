package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/support"
)

func subscriptionBody(typ, customer, sku string, at time.Time) string {
	return fmt.Sprintf(`{"type":%q,"timestamp":%q,"data":{"customer":{"id":%q,"email":"%s@example.com"},"subscription":{"sku":%q,"at":%q}}}`,
		typ, ts(at), customer, customer, sku, ts(at))
}

func stockBody(sku string, stock int, at time.Time) string {
	return fmt.Sprintf(`{"type":"product.stock_changed","timestamp":%q,"data":{"product":{"sku":%q,"stock":%d,"at":%q}}}`, ts(at), sku, stock, ts(at))
}

// notices lists, per customer id of shop acme, the back-in-stock actions as
// "status due [reason]", sorted.
func notices(t *testing.T, st *store.Store, customers ...string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	shop, err := st.ShopByKey(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, c := range customers {
		prof, err := st.CustomerByIdentity(ctx, shop.ID, models.IdentityID, c)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		acts, err := st.CustomerActions(ctx, prof.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		// By due time, not by the text: "00:22" after midnight sorts
		// before "21:22" of the evening before.
		slices.SortStableFunc(acts, func(a, b models.Action) int {
			return cmp.Or(a.DueAt.Compare(b.DueAt), cmp.Compare(a.Status, b.Status))
		})
		for _, a := range acts {
			if a.RuleID == "back-in-stock" {
				s := string(a.Status) + " " + a.DueAt.UTC().Format("15:04")
				if a.Reason != "" {
					s += " " + a.Reason
				}
				out[c] = append(out[c], s)
			}
		}
	}
	return out
}

// TestStock_BackInStock: customers subscribe through the signed Standard
// Webhooks endpoint; the SKU goes 0 → 5 and the example's back-in-stock rule
// notifies them oldest first, 2 per hour; duplicates and an old level that
// arrives late change nothing; selling out again cancels the notices still
// ahead, and the next restock notifies only those.
func TestStock_BackInStock(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		rulesPath := exampleRules(t, t.TempDir())
		// The slots are checked to the minute: the night's quiet hours
		// would move them, so the test switches them off.
		b := must(os.ReadFile(rulesPath))
		b = []byte(strings.Replace(string(b), "    on: stock.available\n", "    on: stock.available\n    quiet_hours: none\n", 1))
		if err := os.WriteFile(rulesPath, b, 0o600); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, driver, "rules:\n  file: "+rulesPath+"\nstock:\n  notify_per_hour: 2\n  page_size: 3\n")
		in := e.serve(t)
		url := in.URL + "/webhooks/standard/acme"
		st := e.store(t)
		ctx := context.Background()
		const sku = "BEAN-ESP-1KG"
		// The restock is ahead, so that its slots are not in the past
		// (an action due in the past is due now).
		r0 := time.Now().UTC().Truncate(time.Minute).Add(time.Hour)
		at := func(d time.Duration) string { return r0.Add(d).Format("15:04") }
		var sent []string
		send := func(id, body string) {
			t.Helper()
			if code, m := post(t, url, id, body); code != 200 {
				t.Fatalf("%s: %d %v", id, code, m)
			}
			sent = append(sent, body)
		}
		shop, err := st.ShopByKey(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		// restocked waits until the restock's notices are recorded, n
		// subscriptions notified.
		restocked := func(n int) {
			t.Helper()
			waitDrained(t, e)
			waitFor(t, func() bool {
				subs, err := st.StockSubscriptions(ctx, shop.ID, sku)
				notified := 0
				for _, s := range subs {
					if s.NoticeEventID != nil {
						notified++
					}
				}
				_, _, pending, err2 := st.PendingRestock(ctx)
				return err == nil && err2 == nil && !pending && notified == n
			})
		}

		// c-1 … c-5 subscribe an hour apart, arriving in another
		// order; c-6 subscribes and unsubscribes; c-7 wants another SKU.
		send("st-0", stockBody(sku, 0, r0.Add(-6*time.Hour)))
		for _, i := range []int{3, 1, 5, 2, 4} {
			send(fmt.Sprintf("sub-%d", i), subscriptionBody("stock.subscribed", fmt.Sprintf("c-%d", i), sku, r0.Add(time.Duration(i-6)*time.Hour)))
		}
		send("sub-6", subscriptionBody("stock.subscribed", "c-6", sku, r0.Add(-5*time.Hour)))
		send("unsub-6", subscriptionBody("stock.unsubscribed", "c-6", sku, r0.Add(-3*time.Hour)))
		send("sub-7", subscriptionBody("stock.subscribed", "c-7", "TEA-SENCHA-100G", r0.Add(-5*time.Hour)))
		// c-8's unsubscription overtakes its older subscription.
		send("unsub-8", subscriptionBody("stock.unsubscribed", "c-8", sku, r0.Add(-2*time.Hour)))
		send("sub-8", subscriptionBody("stock.subscribed", "c-8", sku, r0.Add(-4*time.Hour)))
		send("st-1", stockBody(sku, 5, r0))
		// An older 0 arriving late, and the restock again under a new id.
		send("st-late", stockBody(sku, 0, r0.Add(-30*time.Minute)))
		send("st-1-again", stockBody(sku, 5, r0))
		restocked(5)

		all := []string{"c-1", "c-2", "c-3", "c-4", "c-5", "c-6", "c-7", "c-8"}
		want := map[string][]string{
			"c-1": {"scheduled " + at(0)}, "c-2": {"scheduled " + at(0)},
			"c-3": {"scheduled " + at(time.Hour)}, "c-4": {"scheduled " + at(time.Hour)},
			"c-5": {"scheduled " + at(2*time.Hour)},
		}
		if got := notices(t, st, all...); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("after the restock:\n got %v\nwant %v", got, want)
		}

		// The timeline says why c-3's notice is due when it is.
		prof, _ := st.CustomerByIdentity(ctx, shop.ID, models.IdentityID, "c-3")
		page, err := (&support.Service{Store: support.Reads(st)}).Timeline(ctx, shop, prof.CustomerID, support.TimelineQuery{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var why, summary []string
		for _, it := range page.Items {
			if it.Kind == "action" && it.RuleID == "back-in-stock" {
				why = append(why, it.Why)
			}
			if it.Kind == "event" {
				summary = append(summary, it.Summary)
			}
		}
		wantWhy := "rule back-in-stock on stock.available for " + sku + ": " + sku + " back in stock at " + ts(r0) +
			"; subscribed " + ts(r0.Add(-3*time.Hour)) + ", subscriber 3 of 5, slot 2 of 3 at 2/hour, due from " + ts(r0.Add(time.Hour))
		if len(why) != 1 || why[0] != wantWhy {
			t.Fatalf("why %q\nwant %q", why, wantWhy)
		}
		if !slices.Contains(summary, "Back in stock: "+sku+" (subscriber 3 of 5, slot 2 of 3 at 2/hour)") ||
			!slices.Contains(summary, "Subscribed to a back-in-stock notice for "+sku) {
			t.Fatalf("summaries %q", summary)
		}

		// Sold out 90 minutes after the restock: c-5's notice (due after two
		// hours) is cancelled, the others stand. The next restock, an hour
		// later, notifies c-5 alone.
		send("st-2", stockBody(sku, 0, r0.Add(90*time.Minute)))
		waitDrained(t, e)
		// c-1, notified, subscribes again: the next restock notifies it
		// once more, after c-5, whose subscription is older.
		send("resub-1", subscriptionBody("stock.subscribed", "c-1", sku, r0.Add(2*time.Hour)))
		send("st-3", stockBody(sku, 3, r0.Add(3*time.Hour)))
		restocked(5)
		want["c-5"] = []string{"cancelled " + at(2*time.Hour) + " out_of_stock", "scheduled " + at(3*time.Hour)}
		want["c-1"] = []string{"scheduled " + at(0), "scheduled " + at(3*time.Hour)}
		if got := notices(t, st, all...); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("after selling out and the next restock:\n got %v\nwant %v", got, want)
		}
		// Seven notices planned, one withdrawn for the sell-out.
		waitFor(t, func() bool {
			text := scrape(t, in.URL)
			return metricSum(text, "treue_actions_planned_total", map[string]string{"rule": "back-in-stock", "status": "scheduled"}) == 7 &&
				metricSum(text, "treue_actions_cancelled_total", map[string]string{"rule": "back-in-stock", "reason": "out_of_stock"}) == 1
		})

		// Every delivery again, under new ids, in reverse: nothing changes.
		for i := len(sent) - 1; i >= 0; i-- {
			if code, m := post(t, url, fmt.Sprintf("again-%d", i), sent[i]); code != 200 {
				t.Fatalf("again %d: %d %v", i, code, m)
			}
		}
		restocked(5)
		if got := notices(t, st, all...); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("after the duplicates:\n got %v\nwant %v", got, want)
		}

		// A notice is Treue's own: one a sender posts is stored unparsed,
		// naming the field.
		code, m := post(t, url, "forged", `{"type":"stock.available","timestamp":"2026-01-01T00:00:00Z","data":{"customer":{"id":"c-1"},"restock":{"sku":"X"}}}`)
		if code != 200 || m["status"] != "unparsed" || !strings.Contains(fmt.Sprint(m["errors"]), "field:type") {
			t.Fatalf("forged notice: %d %v", code, m)
		}
		in.Stop(t)

		// The backtest replays the notices and plans what processing planned.
		out, err := e.run(t, "rules", "simulate", "--shop", "acme", rulesPath)
		if err != nil {
			t.Fatalf("simulate: %v\n%s", err, out)
		}
		var row string
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) == 4 && f[0] == "back-in-stock" {
				row = strings.Join(f[1:], " ")
			}
		}
		// Seven planned, c-5's first cancelled by the stock.sold_out replayed.
		if row != "6/0/1 6/0/1 +0" {
			t.Fatalf("back-in-stock simulated vs recorded: %q\n%s", row, out)
		}
	})
}
