package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

// plantOutcomes gives n customers of shop acme one reminder each in the
// last weeks (every fifth held out) and an order 3 days later to every
// second treated and every fifth held-out customer.
func plantOutcomes(t *testing.T, st *store.Store, n int) (from, to time.Time) {
	t.Helper()
	ctx := context.Background()
	shop, err := st.ShopByKey(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	loc := shop.Location()
	now := time.Now().In(loc)
	to = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -20)
	from = to.AddDate(0, 0, -30)
	err = st.InTx(ctx, func(tx *store.Store) error {
		var keys []store.CustomerKey
		for i := 0; i < n; i++ {
			keys = append(keys, store.CustomerKey{ShopID: shop.ID, Ref: models.CustomerRef{ID: fmt.Sprintf("r-%d", i)}})
		}
		ids, err := tx.ResolveCustomers(ctx, keys)
		if err != nil {
			return err
		}
		for i, id := range ids {
			due := from.Add(time.Duration(i%28)*24*time.Hour + time.Hour)
			a := &models.Action{ShopID: shop.ID, CustomerID: id, Type: models.ActionReorderReminder, Status: models.ActionSent,
				RuleID: "reorder-reminder", RulesVersion: "v1", DueAt: due, SentAt: &due, Marketing: true,
				IdempotencyKey: fmt.Sprintf("rk-%d", i), Params: map[string]any{}}
			converts := i%2 == 0
			if i%5 == 0 {
				a.Status, a.Reason, a.SentAt, converts = models.ActionSuppressed, "holdout", nil, i%25 == 0
			}
			if err := tx.InsertActions(ctx, []*models.Action{a}); err != nil {
				return err
			}
			if converts {
				ref := fmt.Sprintf("ro-%d", i)
				if err := tx.InsertEvents(ctx, []*store.EventRecord{{ShopID: shop.ID, CustomerID: id, Type: "order.placed", StepKey: "order.placed|" + ref,
					OccurredAt: due.Add(72 * time.Hour), ReceivedAt: due, Platform: "standard", DeliveryID: ref, OrderRef: ref,
					Data: `{"customer":{"id":"x"},"order":{"id":"` + ref + `","currency":"EUR","total":"25.00"}}`}}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return from, to
}

// TestReportRules: the API and the CLI give the same figures.
func TestReportRules(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, "")
		out, err := e.run(t, "tokens", "create", "--name", "merchant", "--role", "support")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		tok := strings.TrimSpace(lines[len(lines)-1])
		in := e.serve(t)
		from, to := plantOutcomes(t, e.store(t), 200)
		q := "?from=" + from.Format(time.DateOnly) + "&to=" + to.Format(time.DateOnly)

		var rep struct {
			Rules []struct {
				RuleID    string `json:"rule_id"`
				Treatment struct {
					Customers, Converted int
					Rate                 *float64
				} `json:"treatment"`
				Holdout *struct {
					Customers, Converted int
				} `json:"holdout"`
				EnoughData bool `json:"enough_data"`
				Uplift     *struct {
					Abs         float64 `json:"absolute"`
					Lo          float64 `json:"ci_low"`
					Hi          float64 `json:"ci_high"`
					Significant bool    `json:"significant"`
				} `json:"uplift"`
			} `json:"rules"`
		}
		if code := getJSON(t, in.URL+"/api/v1/shops/acme/reports/rules"+q, tok, &rep); code != 200 || len(rep.Rules) != 1 {
			t.Fatalf("report: %d %+v", code, rep)
		}
		r := rep.Rules[0]
		if r.Treatment.Customers != 160 || r.Treatment.Converted != 80 || r.Holdout == nil || r.Holdout.Customers != 40 || r.Holdout.Converted != 8 ||
			!r.EnoughData || r.Uplift == nil || !r.Uplift.Significant || r.Uplift.Abs < 0.29 || r.Uplift.Abs > 0.31 {
			t.Fatalf("rule report %+v uplift %+v", r, r.Uplift)
		}
		var prob map[string]any
		if code := getJSON(t, in.URL+"/api/v1/shops/acme/reports/rules?from=2026-13-01", tok, &prob); code != 422 {
			t.Fatalf("a bad date: %d %v", code, prob)
		}
		if code := getJSON(t, in.URL+"/api/v1/shops/nobody/reports/rules", tok, &prob); code != 404 {
			t.Fatalf("an unknown shop: %d", code)
		}
		if code := getJSON(t, in.URL+"/api/v1/shops/acme/reports/rules", "", &prob); code != 401 {
			t.Fatalf("no token: %d", code)
		}

		args := []string{"report", "rules", "--shop", "acme", "--from", from.Format(time.DateOnly), "--to", to.Format(time.DateOnly)}
		table, err := e.run(t, args...)
		if err != nil || !strings.Contains(table, "reorder-reminder") || !strings.Contains(table, "80/160 50.0%") || !strings.Contains(table, "8/40 20.0%") || !strings.Contains(table, "+30.0 [") {
			t.Fatalf("table: %v\n%s", err, table)
		}
		js, err := e.run(t, append(args, "--format", "json")...)
		var cli struct {
			Rules []struct {
				Uplift struct {
					Absolute float64 `json:"absolute"`
					CILow    float64 `json:"ci_low"`
				} `json:"uplift"`
			} `json:"rules"`
		}
		if err != nil || json.Unmarshal([]byte(js), &cli) != nil || len(cli.Rules) != 1 || cli.Rules[0].Uplift.CILow != r.Uplift.Lo {
			t.Fatalf("json: %v\n%s", err, js)
		}
		csv, err := e.run(t, append(args, "--format", "csv")...)
		if err != nil || !strings.HasPrefix(csv, "rule_id,") || !strings.Contains(csv, "reorder-reminder,reorder_reminder,14,order,160,80,0.5,") {
			t.Fatalf("csv: %v\n%s", err, csv)
		}
		if short, err := e.run(t, append([]string{"report"}, args[2:]...)...); err != nil || short != table {
			t.Fatalf("treue report --shop … is the rules report: %v\n%s", err, short)
		}
		if _, err := e.run(t, "report", "rules", "--shop", "acme", "--from", "yesterday"); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
			t.Fatalf("a bad --from: %v", err)
		}
	})
}
