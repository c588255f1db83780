package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
)

// budgetRulesFile gives each order a 10.00 code (and a tag, which costs
// nothing) 70 days after it is placed; 25.00 a month pay for two codes.
const budgetRulesFile = `defaults: {timezone: Europe/Berlin, currency: EUR}
budget: {monthly: "25.00", currency: EUR}
rules:
  - id: thanks-code
    on: [order.placed]
    kind: service
    when: {after: 70d}
    limit: {once_per: order}
    action: {type: promo_code, params: {amount: "10.00"}}
  - id: tag-buyer
    on: [order.placed]
    kind: service
    when: {after: 70d}
    limit: {once_per: order}
    action: {type: tag_customer, params: {tag: buyer}}
`

// TestBudget_EndToEnd: orders sent as signed Standard Webhooks plan costed
// codes until the budget of the month they are due in (M1, next month) is spent; the next is held back with
// budget_exhausted (the free tag is not), the timeline says why, the report
// (CLI and API) and the metrics show spend against the budget, the month
// after (M2) starts with the whole budget, and rules simulate projects the same spend.
func TestBudget_EndToEnd(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		rulesPath := filepath.Join(t.TempDir(), "rules.yaml")
		if err := os.WriteFile(rulesPath, []byte(budgetRulesFile), 0o600); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, driver, "rules:\n  file: "+rulesPath+"\n")
		in := e.serve(t)
		url := in.URL + "/webhooks/standard/acme"
		order := func(customer, id, at string) string {
			return fmt.Sprintf(`{"type":"order.placed","timestamp":%q,"data":{"customer":{"id":%q,"email":"%s@example.org"},"order":{"id":%q,"placed_at":%q,"currency":"EUR","total":"59.80","items":[{"sku":"BEAN-ESP-1KG","quantity":2,"unit_price":"29.90"}]}}}`,
				at, customer, customer, id, at)
		}
		// Due 70 days after it is placed, an order of dueIn(m, d) spends the
		// budget of month m (in the rules' Europe/Berlin), on its day d.
		berlin, _ := time.LoadLocation("Europe/Berlin")
		l := time.Now().In(berlin)
		m1 := time.Date(l.Year(), l.Month()+1, 1, 0, 0, 0, 0, berlin)
		m2 := m1.AddDate(0, 1, 0)
		m1s, m2s := m1.Format("2006-01"), m2.Format("2006-01")
		dueIn := func(m time.Time, day int) string {
			return m.AddDate(0, 0, day-1).Add(9 * time.Hour).Add(-70 * 24 * time.Hour).UTC().Format(time.RFC3339)
		}
		for i, body := range []string{
			order("c-1", "o-1", dueIn(m1, 3)),
			order("c-2", "o-2", dueIn(m1, 10)),
			order("c-3", "o-3", dueIn(m1, 20)), // M1 is spent: held back
			order("c-3", "o-3", dueIn(m1, 20)), // a duplicate changes nothing
			order("c-1", "o-4", dueIn(m2, 5)),  // M2: a fresh budget
		} {
			if code, m := post(t, url, fmt.Sprintf("b-%d", i), body); code != 200 {
				t.Fatalf("order %d: %d %v", i, code, m)
			}
			waitDrained(t, e)
		}

		st := e.store(t)
		ctx := context.Background()
		shop, err := st.ShopByKey(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		prof, err := st.CustomerByIdentity(ctx, shop.ID, models.IdentityID, "c-3")
		if err != nil {
			t.Fatal(err)
		}
		acts, err := st.CustomerActions(ctx, prof.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		got := summarize(acts)
		if want := []string{"tag-buyer tag_customer scheduled", "thanks-code promo_code suppressed"}; strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("c-3's actions: %q, want %q", got, want)
		}
		for _, a := range acts {
			if a.Type == models.ActionPromoCode && a.Reason != "budget_exhausted: 20.00 of 25.00 EUR spent in "+m1s {
				t.Errorf("reason %q", a.Reason)
			}
		}

		// The timeline says why.
		support := token(t, e, "anna-support", "support")
		code, m := apiGet(t, in.URL+"/api/v1/shops/acme/customers/"+prof.PublicID+"/timeline", support)
		if code != 200 {
			t.Fatalf("timeline: %d %v", code, m)
		}
		found := false
		for _, it := range m["items"].([]any) {
			item := it.(map[string]any)
			if item["rule_id"] == "thanks-code" {
				found = true
				why, _ := item["why"].(string)
				if item["status"] != "suppressed" || !strings.Contains(why, "held back: the month's incentive budget could not pay its 10.00 (20.00 of 25.00 EUR spent in "+m1s+")") {
					t.Errorf("timeline item: %v", item)
				}
			}
		}
		if !found {
			t.Errorf("no thanks-code item on the timeline: %v", m)
		}

		// The report, from the CLI and the API: spend against budget per month and rule.
		type month struct {
			Month      string  `json:"month"`
			Spent      string  `json:"spent"`
			SpentCents int64   `json:"spent_cents"`
			Actions    int     `json:"actions"`
			Remaining  *string `json:"remaining"`
			Held       int     `json:"held"`
			HeldValue  string  `json:"held_value"`
			Rules      []struct {
				RuleID  string `json:"rule_id"`
				Spent   string `json:"spent"`
				Actions int    `json:"actions"`
				Held    int    `json:"held"`
			} `json:"rules"`
		}
		var rep struct {
			Monthly *string `json:"monthly"`
			Months  []month `json:"months"`
		}
		check := func(src string) {
			t.Helper()
			if rep.Monthly == nil || *rep.Monthly != "25.00" || len(rep.Months) != 2 {
				t.Fatalf("%s: %+v", src, rep)
			}
			first, second := rep.Months[0], rep.Months[1]
			if first.Month != m1s || first.Spent != "20.00" || first.Actions != 2 || first.Held != 1 || first.HeldValue != "10.00" ||
				first.Remaining == nil || *first.Remaining != "5.00" || len(first.Rules) != 1 || first.Rules[0].RuleID != "thanks-code" || first.Rules[0].Held != 1 {
				t.Errorf("%s: M1 %+v", src, first)
			}
			if second.Month != m2s || second.Spent != "10.00" || second.Actions != 1 || second.Held != 0 || *second.Remaining != "15.00" {
				t.Errorf("%s: M2 %+v", src, second)
			}
		}
		period := []string{"--from", m1.Format(time.DateOnly), "--to", m2.AddDate(0, 1, 0).Format(time.DateOnly)}
		out, err := e.run(t, append([]string{"report", "budget", "--shop", "acme", "--format", "json"}, period...)...)
		if err != nil {
			t.Fatalf("report budget: %v\n%s", err, out)
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		check("treue report budget")
		rep.Monthly, rep.Months = nil, nil
		req, _ := http.NewRequest("GET", in.URL+"/api/v1/shops/acme/reports/budget?from="+period[1]+"&to="+period[3], nil)
		req.Header.Set("Authorization", "Bearer "+support)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		decodeJSON(resp, &rep)
		resp.Body.Close()
		check("GET reports/budget")
		if code, m := apiGet(t, in.URL+"/api/v1/shops/acme/reports/budget?from=2026-13-01", support); code != 422 || !strings.Contains(fmt.Sprint(m), "from") {
			t.Errorf("bad from: %d %v", code, m)
		}
		table, err := e.run(t, append([]string{"report", "budget", "--shop", "acme"}, period...)...)
		if err != nil || !strings.Contains(table, "budget 25.00 EUR a month") || !strings.Contains(table, "thanks-code") {
			t.Errorf("table: %v\n%s", err, table)
		}

		// The metrics: the budget, and this month's spend (nothing is due now).
		resp, err = http.Get(in.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `treue_budget_monthly_cents{shop="acme"} 2500`) || !strings.Contains(string(body), `treue_budget_spent_cents{month=`) {
			t.Errorf("metrics lack the budget:\n%s", grepLines(string(body), "treue_budget"))
		}
		// The held-back code is counted by its reason's class.
		waitFor(t, func() bool {
			return metricSum(scrape(t, in.URL), "treue_actions_planned_total", map[string]string{"rule": "thanks-code", "status": "suppressed", "reason": "budget_exhausted"}) >= 1
		})
		in.Stop(t)

		// rules simulate: the same rules project the recorded spend, and hold
		// back what processing held back.
		out, err = e.run(t, "rules", "simulate", "--shop", "acme", rulesPath)
		if err != nil {
			t.Fatalf("simulate: %v\n%s", err, out)
		}
		for _, want := range []string{"Projected incentive spend per month (budget 25.00 EUR a month, months in Europe/Berlin)"} {
			if !strings.Contains(out, want) {
				t.Errorf("simulate lacks %q:\n%s", want, out)
			}
		}
		rows := map[string]string{}
		for _, l := range strings.Split(out, "\n") {
			f := strings.Fields(l)
			if len(f) == 4 && strings.Count(f[1], "/") == 2 {
				rows[f[0]] = f[1] + " " + f[2]
			}
			if len(f) == 8 && (f[0] == m1s || f[0] == m2s) {
				rows[f[0]+" "+f[1]] = strings.Join(f[2:], " ")
			}
		}
		for k, want := range map[string]string{
			"thanks-code":        "3/1/0 3/1/0",
			m1s + " thanks-code": "20.00 (2) 10.00 (1) 20.00 (2)",
			m2s + " thanks-code": "10.00 (1) 0.00 (0) 10.00 (1)",
			m1s + " (all)":       "20.00 (2) 10.00 (1) 20.00 (2)",
		} {
			if rows[k] != want {
				t.Errorf("simulate %s: %q, want %q\n%s", k, rows[k], want, out)
			}
		}
		// A candidate with a smaller budget holds back more.
		smaller := filepath.Join(filepath.Dir(rulesPath), "smaller.yaml")
		os.WriteFile(smaller, []byte(strings.Replace(budgetRulesFile, `monthly: "25.00"`, `monthly: "15.00"`, 1)), 0o600)
		out, err = e.run(t, "rules", "simulate", "--shop", "acme", smaller)
		if err != nil || !strings.Contains(out, m1s+"  thanks-code  10.00 (1)") {
			t.Errorf("smaller budget: %v\n%s", err, out)
		}
	})
}

// grepLines keeps the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
