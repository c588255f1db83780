package main

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
)

// exampleRules copies examples/rules.yaml without the holdout, which would
// otherwise hold back a random 5 % of test customers.
func exampleRules(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile("../../examples/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), "holdout_percent: 5", "holdout_percent: 0", 1))
	p := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// serveExampleRules runs Treue with the example rules; it returns the rules
// file and shop acme's webhook URL.
func serveExampleRules(t *testing.T, driver string) (e *testEnv, in *instance, rulesPath, url string) {
	t.Helper()
	rulesPath = exampleRules(t, t.TempDir())
	e = newEnv(t, driver, "rules:\n  file: "+rulesPath+"\n")
	in = e.serve(t)
	return e, in, rulesPath, in.URL + "/webhooks/standard/acme"
}

// TestRules_Journey posts a realistic journey through the real endpoint and
// checks the actions the example rules plan, on both databases.
func TestRules_Journey(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e, _, _, url := serveExampleRules(t, driver)
		t0 := time.Now().UTC().Add(-20 * 24 * time.Hour).Truncate(time.Second)
		journey := journeyFor(t0, "c-1", "o-1", "o-2")
		post2 := func(prefix string) {
			for i, body := range journey {
				if code, m := post(t, url, fmt.Sprintf("%s-%d", prefix, i), body); code != 200 {
					t.Fatalf("step %d: %d %v", i, code, m)
				}
				waitDrained(t, e)
			}
		}
		post2("first")
		st := e.store(t)
		ctx := context.Background()
		shop, _ := st.ShopByKey(ctx, "acme")
		prof, err := st.CustomerByIdentity(ctx, shop.ID, models.IdentityID, "c-1")
		if err != nil {
			t.Fatal(err)
		}
		actions, err := st.CustomerActions(ctx, prof.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		got := summarize(actions)
		want := []string{
			"late-delivery-apology promo_code scheduled",
			"points-award points_award scheduled", "points-award points_award scheduled",
			"points-revoke-return points_revoke scheduled",
			"reorder-reminder reorder_reminder cancelled", "reorder-reminder reorder_reminder cancelled",
			"return-recovery promo_code scheduled",
			// o-1's review waits; o-2's would be the third marketing action in a
			// week (sample, o-1 review), so the frequency cap holds it back.
			"review-request review_request scheduled", "review-request review_request suppressed",
			"second-purchase-sample sample_gift scheduled",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("actions:\n got %q\nwant %q", got, want)
		}
		for _, a := range actions {
			if a.RuleID == "" || a.RulesVersion == "" || a.TriggerEventID == 0 || a.IdempotencyKey == "" {
				t.Fatalf("action lacks its why: %+v", a)
			}
			if (a.Status == models.ActionCancelled || a.Status == models.ActionSuppressed) && a.Reason == "" {
				t.Fatalf("%s without reason: %+v", a.Status, a)
			}
			if a.Status == models.ActionSuppressed && !strings.HasPrefix(a.Reason, "frequency_cap") {
				t.Fatalf("suppressed for %q, want the frequency cap", a.Reason)
			}
		}
		// The first reminder: 2 units x 30 days - 5 days after payment.
		for _, a := range actions {
			if a.RuleID == "reorder-reminder" && a.OrderRef == "o-1" {
				want := t0.Add(6 * time.Minute).Add(55 * 24 * time.Hour)
				if d := a.DueAt.Sub(want); d < -13*time.Hour || d > 13*time.Hour {
					t.Fatalf("reminder due %v, want about %v (quiet hours may shift it)", a.DueAt, want)
				}
			}
		}
		balance, _ := st.PointsBalance(ctx, prof.CustomerID)
		if balance != 59+59-59 { // o-2 came back whole
			t.Fatalf("points balance %d", balance)
		}
		// Replaying the whole journey under new delivery ids changes nothing.
		post2("replay")
		again, _ := st.CustomerActions(ctx, prof.CustomerID)
		if !slices.Equal(summarize(again), want) {
			t.Fatalf("replay changed actions: %q", summarize(again))
		}
	})
}

func summarize(actions []models.Action) []string {
	var out []string
	for _, a := range actions {
		out = append(out, fmt.Sprintf("%s %s %s", a.RuleID, a.Type, a.Status))
	}
	slices.Sort(out)
	return out
}

func waitDrained(t *testing.T, e *testEnv) {
	t.Helper()
	st := e.store(t)
	waitFor(t, func() bool {
		n, _, err := st.InboxBacklog(context.Background())
		return err == nil && n == 0
	})
}

func TestRulesCheckCommand(t *testing.T) {
	e := newEnv(t, "sqlite", "")
	out, err := e.run(t, "rules", "check", "../../examples/rules.yaml")
	if err != nil || !strings.Contains(out, "ok, ") {
		t.Fatalf("example rules: %q %v", out, err)
	}
	bad := filepath.Join(e.dir, "bad.yaml")
	os.WriteFile(bad, []byte("rules:\n  - id: a\n    on: [order.placd]\n    kind: service\n    action: {type: promo_code}\n    colour: red\n"), 0o600)
	out, err = e.run(t, "rules", "check", bad)
	if err == nil {
		t.Fatal("a broken file must fail")
	}
	for _, want := range []string{bad + ":3:10: unknown event type \"order.placd\"", bad + ":6:5: unknown field \"colour\""} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestRules_HotReload: valid → invalid (old rules stay, error reported) → valid.
func TestRules_HotReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yaml")
	write := func(body string) {
		t.Helper()
		tmp := path + ".tmp"
		os.WriteFile(tmp, []byte(body), 0o600)
		os.Rename(tmp, path) // atomic, as editors and deploy tools do
	}
	rule := func(id string) string {
		return "rules:\n  - id: " + id + "\n    on: [order.paid]\n    kind: service\n    action: {type: tag_customer, params: {tag: x}}\n"
	}
	write(rule("first"))
	e := newEnv(t, "sqlite", "rules:\n  file: "+path+"\n")
	admin := token(t, e, "ops", "admin")
	in := e.serve(t)
	get := func() map[string]any {
		t.Helper()
		resp, m := apiGet(t, in.URL+"/api/v1/rules", admin)
		if resp != 200 {
			t.Fatalf("GET /api/v1/rules: %d %v", resp, m)
		}
		return m
	}
	ruleIDs := func(m map[string]any) string {
		var ids []string
		for _, r := range m["rules"].([]any) {
			ids = append(ids, r.(map[string]any)["id"].(string))
		}
		return strings.Join(ids, ",")
	}
	if got := ruleIDs(get()); got != "first" {
		t.Fatalf("initial rules %q", got)
	}
	v1 := get()["version"]
	time.Sleep(10 * time.Millisecond)
	write("rules:\n  - id: broken\n    on: [nope]\n")
	waitFor(t, func() bool { return get()["last_error"] != nil })
	m := get()
	if ruleIDs(m) != "first" || m["version"] != v1 {
		t.Fatalf("an invalid file must keep the old rules: %v", m)
	}
	if !strings.Contains(in.Logs.String(), "rules file invalid") {
		t.Fatal("the invalid file was not logged")
	}
	write(rule("second"))
	waitFor(t, func() bool { return ruleIDs(get()) == "second" })
	if get()["last_error"] != nil {
		t.Fatal("last_error must clear after a good reload")
	}
}

// journeyFor is a realistic journey: consent, an order delivered late, a
// second order delivered and partly returned.
func journeyFor(t0 time.Time, customer, o1, o2 string) []string {
	at := func(h float64) string { return ts(t0.Add(time.Duration(h * float64(time.Hour)))) }
	cust := fmt.Sprintf(`"customer":{"id":%q,"email":"%s@example.org"}`, customer, customer)
	order := func(id string, h float64, qty int) string {
		return fmt.Sprintf(`{"type":"order.placed","timestamp":%q,"data":{%s,"order":{"id":%q,"placed_at":%q,"currency":"EUR","total":"59.80","items":[{"sku":"BEAN-ESP-1KG","category":"beans","quantity":%d,"unit_price":"29.90"}]}}}`, at(h), cust, id, at(h), qty)
	}
	step := func(typ, id string, h float64, extra string) string {
		return fmt.Sprintf(`{"type":%q,"timestamp":%q,"data":{%s,"order":{"id":%q}%s}}`, typ, at(h), cust, id, extra)
	}
	return []string{
		fmt.Sprintf(`{"type":"consent.granted","timestamp":%q,"data":{%s,"consent":{"channel":"email","at":%q}}}`, at(-1), cust, at(-1)),
		order(o1, 0, 2),
		step("order.paid", o1, 0.1, ""),
		step("shipment.shipped", o1, 20, fmt.Sprintf(`,"shipment":{"id":"s-1","shipped_at":%q,"promised_delivery_at":%q}`, at(20), at(44))),
		// delivered a day after the promised date: an apology is owed
		step("shipment.delivered", o1, 70, fmt.Sprintf(`,"shipment":{"id":"s-1","delivered_at":%q}`, at(70))),
		order(o2, 200, 1),
		step("order.paid", o2, 200.1, ""),
		step("shipment.shipped", o2, 210, fmt.Sprintf(`,"shipment":{"id":"s-2","shipped_at":%q}`, at(210))),
		step("shipment.delivered", o2, 230, fmt.Sprintf(`,"shipment":{"id":"s-2","delivered_at":%q}`, at(230))),
		step("return.requested", o2, 300, fmt.Sprintf(`,"return":{"id":"r-1","requested_at":%q,"items":[{"sku":"BEAN-ESP-1KG","quantity":1}]}`, at(300))),
		step("return.received", o2, 320, fmt.Sprintf(`,"return":{"id":"r-1","received_at":%q,"items":[{"sku":"BEAN-ESP-1KG","quantity":1}]}`, at(320))),
	}
}

// TestRules_ArrivalOrder: the same journey delivered in shuffled orders, with
// duplicates, plans the same actions with the same statuses as in order.
func TestRules_ArrivalOrder(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, "rules:\n  file: "+exampleRules(t, t.TempDir())+"\n")
		in := e.serve(t)
		url := in.URL + "/webhooks/standard/acme"
		t0 := time.Now().UTC().Add(-20 * 24 * time.Hour).Truncate(time.Second)
		st := e.store(t)
		ctx := context.Background()
		shop, _ := st.ShopByKey(ctx, "acme")
		outcome := func(customer string) []string {
			p, err := st.CustomerByIdentity(ctx, shop.ID, models.IdentityID, customer)
			if err != nil {
				t.Fatal(err)
			}
			acts, _ := st.CustomerActions(ctx, p.CustomerID)
			// What matters is which actions will reach the customer. Why one
			// will not can differ: a step arriving late may cancel an action
			// that, in order, the frequency cap would have held back.
			var out []string
			for _, a := range acts {
				fate := "goes out"
				if a.Status == models.ActionCancelled || a.Status == models.ActionSuppressed {
					fate = "held back"
				}
				out = append(out, fmt.Sprintf("%s %s %s", a.RuleID, a.Type, fate))
			}
			slices.Sort(out)
			return out
		}
		rng := mrand.New(mrand.NewPCG(7, 11))
		var want []string
		for run := 0; run < 16; run++ {
			customer := fmt.Sprintf("c-%d", run)
			steps := journeyFor(t0, customer, "o-a"+customer, "o-b"+customer)
			ids := make([]int, len(steps))
			for i := range ids {
				ids[i] = i
			}
			if run > 0 {
				rng.Shuffle(len(ids), func(a, b int) { ids[a], ids[b] = ids[b], ids[a] })
				ids = append(ids, ids[rng.IntN(len(ids))]) // a redelivery
			}
			for _, i := range ids {
				if code, m := post(t, url, fmt.Sprintf("%s-%d", customer, i), steps[i]); code != 200 {
					t.Fatalf("%d %v", code, m)
				}
			}
			waitDrained(t, e)
			got := outcome(customer)
			if run == 0 {
				want = got
				continue
			}
			if !slices.Equal(got, want) {
				p, _ := st.CustomerByIdentity(ctx, shop.ID, models.IdentityID, customer)
				acts, _ := st.CustomerActions(ctx, p.CustomerID)
				for _, a := range acts {
					t.Logf("%s %s %s due %s: %s", a.RuleID, a.Type, a.Status, a.DueAt.Format(time.RFC3339), a.Reason)
				}
				t.Fatalf("arrival order %v planned\n %q\nin order:\n %q", ids, got, want)
			}
		}
	})
}

// TestRules_Simulate replays recorded journeys: with the rules that recorded
// them the backtest must plan exactly what was planned, and a changed rules
// file shows its change.
func TestRules_Simulate(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e, in, rulesPath, url := serveExampleRules(t, driver)
		t0 := time.Now().UTC().Add(-20 * 24 * time.Hour).Truncate(time.Second)
		for c, steps := range [][]string{journeyFor(t0, "c-1", "o-1", "o-2"), journeyFor(t0.Add(time.Hour), "c-2", "o-3", "o-4")} {
			for i, body := range steps {
				if code, m := post(t, url, fmt.Sprintf("c%d-%d", c, i), body); code != 200 {
					t.Fatalf("step %d: %d %v", i, code, m)
				}
				waitDrained(t, e)
			}
		}
		in.Stop(t)

		// rows reads the table: rule → "simulated recorded change".
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
		same := rows(out)
		if len(same) < 6 || !strings.Contains(out, "2 customers") {
			t.Fatalf("simulate printed:\n%s", out)
		}
		for rule, r := range same {
			f := strings.Fields(r)
			if f[0] != f[1] || f[2] != "+0" {
				t.Errorf("%s: simulated and recorded differ with the same rules: %s\n%s", rule, r, out)
			}
		}
		if same["review-request"] != "2/2/0 2/2/0 +0" {
			t.Errorf("review-request: %q, want per customer one planned and one held back by the frequency cap", same["review-request"])
		}

		// A renamed rule: the old one plans nothing any more, the new one what it did.
		changed := filepath.Join(filepath.Dir(rulesPath), "changed.yaml")
		b := must(os.ReadFile(rulesPath))
		os.WriteFile(changed, []byte(strings.Replace(string(b), "id: second-purchase-sample", "id: sample-v2", 1)), 0o600)
		out, err = e.run(t, "rules", "simulate", changed, "--shop", "acme")
		if err != nil {
			t.Fatalf("simulate: %v\n%s", err, out)
		}
		diff := rows(out)
		if diff["sample-v2"] != "2/0/0 0/0/0 +2" || diff["second-purchase-sample"] != "0/0/0 2/0/0 -2" {
			t.Errorf("renamed rule: sample-v2 %q, second-purchase-sample %q\n%s", diff["sample-v2"], diff["second-purchase-sample"], out)
		}

		// Nothing happened after --since; bad input is refused with a reason.
		out, err = e.run(t, "rules", "simulate", "--shop", "acme", "--since", "2100-01-01", rulesPath)
		if err != nil || len(rows(out)) != 0 {
			t.Errorf("--since in the future: %v\n%s", err, out)
		}
		for _, args := range [][]string{{"--shop", "acme"}, {rulesPath}, {"--shop", "acme", "--since", "yesterday", rulesPath}} {
			if _, err := e.run(t, append([]string{"rules", "simulate"}, args...)...); err == nil {
				t.Errorf("%q: no error", args)
			}
		}
		if _, err := e.run(t, "rules", "simulate", "--shop", "nosuch", rulesPath); err == nil || !strings.Contains(err.Error(), "nosuch") {
			t.Errorf("unknown shop: %v", err)
		}
	})
}

// TestRules_ReturnRecoveryWithoutRequest: shops that report a return only as
// the goods or the money coming back (Shopify's refunds/create, Shopware's
// returned delivery and refunded payment, an Adobe Commerce credit memo, the
// Magento module's refund.issued) get the example's return-recovery, once
// per order however many of those arrive. The rule as it was, on
// return.requested alone, planned nothing for them, as the backtest shows.
func TestRules_ReturnRecoveryWithoutRequest(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		const shopifySecret, shopwareSecret, shopwareID = "shopify-app-secret", "shopware-shop-secret-for-tests", "SwShop0000000001"
		signer := newAdobeSigner(t, "adobe-io-1.pem")
		rulesPath := exampleRules(t, t.TempDir())
		e := newEnv(t, driver, "  - key: acme-us\n    platform: shopify\n    domain: kaffee-roesterei.myshopify.com\n    secret: "+shopifySecret+"\n"+
			"  - key: acme-sw\n    platform: shopware\n    shopware_id: "+shopwareID+"\n    secret: "+shopwareSecret+"\n"+
			signer.shop("")+
			"rules:\n  file: "+rulesPath+"\n")
		in := e.serve(t)
		accepted := func(what string, code int, b []byte) {
			t.Helper()
			if code != 200 {
				t.Fatalf("%s: %d %s", what, code, b)
			}
		}
		shopify := func(topic, fixture, id string) {
			t.Helper()
			body := must(readFixture("shopify", fixture))
			code, b := do(t, "POST", in.URL+"/webhooks/shopify", http.Header{
				"X-Shopify-Topic": {topic}, "X-Shopify-Hmac-Sha256": {shopifySig(shopifySecret, body)}, "X-Shopify-Shop-Domain": {"kaffee-roesterei.myshopify.com"},
				"X-Shopify-Webhook-Id": {id}, "Content-Type": {"application/json"},
			}, body)
			accepted(topic, code, b)
		}
		shopware := func(fixture, eventID string) {
			t.Helper()
			body := refresh(t, fixture, shopwareID, eventID)
			code, b := do(t, "POST", in.URL+"/webhooks/shopware", http.Header{"Shopware-Shop-Signature": {hmacHex(shopwareSecret, string(body))}, "Content-Type": {"application/json"}}, body)
			accepted(fixture, code, b)
		}
		adobe := func(fixture, eventID string) {
			t.Helper()
			body := must(readFixture("adobe", fixture))
			code, b := do(t, "POST", in.URL+"/webhooks/adobe/acme-eu", signer.headers(t, body, eventID), body)
			accepted(fixture, code, b)
		}
		t0 := time.Now().UTC().Add(-10 * 24 * time.Hour).Truncate(time.Second)
		magento := func(i int, typ string, h float64, extra string) {
			t.Helper()
			body := fmt.Sprintf(`{"type":%q,"timestamp":%q,"data":{"customer":{"id":"m-1","email":"m-1@example.org"},"order":{"id":"100000042","currency":"EUR","total":"29.90","placed_at":%q,"items":[{"sku":"BEAN-ESP-1KG","quantity":1,"unit_price":"29.90"}]}%s}}`,
				typ, ts(t0.Add(time.Duration(h*float64(time.Hour)))), ts(t0), extra)
			code, m := post(t, in.URL+"/webhooks/standard/acme", fmt.Sprintf("mage-%d", i), body)
			if code != 200 {
				t.Fatalf("%s: %d %v", typ, code, m)
			}
		}

		shopify("orders/create", "orders_create.json", "w-1")
		shopware("order_placed.json", "sw-1")
		adobe("order_new.json", "ad-1")
		magento(0, "order.placed", 0, "")
		waitDrained(t, e)
		shopify("refunds/create", "refunds_create.json", "w-2")
		shopware("order_returned_partially.json", "sw-2")
		shopware("order_refunded.json", "sw-3") // the same order's money: no second note
		adobe("creditmemo.json", "ad-2")
		magento(1, "refund.issued", 48, fmt.Sprintf(`,"refund":{"id":"cm-7","amount":"29.90","currency":"EUR","issued_at":%q}`, ts(t0.Add(48*time.Hour))))
		waitDrained(t, e)

		st := e.store(t)
		ctx := context.Background()
		for shopKey, triggers := range map[string]string{
			"acme-us": "refund.issued", "acme-sw": "refund.issued return.received", "acme-eu": "refund.issued", "acme": "refund.issued",
		} {
			shop, err := st.ShopByKey(ctx, shopKey)
			if err != nil {
				t.Fatal(err)
			}
			ids, _ := st.ShopCustomerIDs(ctx, shop.ID)
			if len(ids) != 1 {
				t.Fatalf("%s: %d customers, want 1", shopKey, len(ids))
			}
			events, _ := st.CustomerEvents(ctx, ids[0])
			typeOf := map[int64]string{}
			var returns []string
			for _, ev := range events {
				typeOf[ev.ID] = ev.Type
				if strings.HasPrefix(ev.Type, "return.") || ev.Type == "refund.issued" {
					returns = append(returns, ev.Type)
				}
			}
			slices.Sort(returns)
			if strings.Join(returns, " ") != triggers {
				t.Fatalf("%s: return and refund steps %q, want %q", shopKey, returns, triggers)
			}
			actions, _ := st.CustomerActions(ctx, ids[0])
			var recovery []models.Action
			for _, a := range actions {
				if a.RuleID == "return-recovery" {
					recovery = append(recovery, a)
				}
			}
			if len(recovery) != 1 || recovery[0].Status != models.ActionScheduled || !strings.Contains(triggers, typeOf[recovery[0].TriggerEventID]) {
				t.Fatalf("%s: return-recovery %+v, want one scheduled, planned by one of %s", shopKey, recovery, triggers)
			}
		}
		in.Stop(t)

		// The backtest shows what the rule as it was would have done: nothing.
		old := filepath.Join(filepath.Dir(rulesPath), "old.yaml")
		b := must(os.ReadFile(rulesPath))
		const now = "on: [return.requested, return.received, refund.issued]"
		if !strings.Contains(string(b), now) {
			t.Fatalf("examples/rules.yaml has no %q", now)
		}
		os.WriteFile(old, []byte(strings.Replace(string(b), now, "on: return.requested", 1)), 0o600)
		out, err := e.run(t, "rules", "simulate", "--shop", "acme-sw", old)
		if err != nil {
			t.Fatalf("simulate: %v\n%s", err, out)
		}
		var row string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "return-recovery ") {
				row = strings.Join(strings.Fields(l), " ")
			}
		}
		if row != "return-recovery 0/0/0 1/0/0 -1" {
			t.Fatalf("return-recovery on return.requested alone: %q, want 0/0/0 against 1/0/0 recorded\n%s", row, out)
		}
	})
}
