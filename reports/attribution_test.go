package reports_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/reports"
)

type memSource struct {
	actions []store.ReportAction
	events  []store.ReportEvent
}

func (m memSource) ReportActions(_ context.Context, _ int64, from, to time.Time, fn func([]store.ReportAction) error) error {
	var out []store.ReportAction
	for _, a := range m.actions {
		if !a.DueAt.Before(from) && a.DueAt.Before(to) {
			out = append(out, a)
		}
	}
	return fn(out)
}

func (m memSource) ReportEvents(_ context.Context, _ int64, from, to time.Time, fn func([]store.ReportEvent) error) error {
	var out []store.ReportEvent
	for _, e := range m.events {
		if !e.OccurredAt.Before(from) && e.OccurredAt.Before(to) {
			out = append(out, e)
		}
	}
	return fn(out)
}

func ptr[T any](v T) *T { return &v }

// TestRules_Attribution: an order belongs to the action whose code it
// redeems, else to the last action due before it inside its window; never
// to two; cancelled and test orders count for nobody; revenue is net of
// refunds; an order before the action or after its window counts for none.
func TestRules_Attribution(t *testing.T) {
	day := 24 * time.Hour
	at := func(d float64) time.Time { return t0.Add(time.Duration(d * float64(day))) }
	sent := func(id, cust int64, rule string, typ models.ActionType, due float64, code string, params string) store.ReportAction {
		a := store.ReportAction{ID: id, CustomerID: cust, RuleID: rule, Type: string(typ), Status: "sent", DueAt: at(due), SentAt: ptr(at(due)), Params: params, Marketing: true}
		if code != "" {
			a.ExternalRef = &code
		}
		return a
	}
	placed := func(id, cust int64, ref string, d float64, total, coupon string) store.ReportEvent {
		return store.ReportEvent{ID: id, CustomerID: cust, Type: "order.placed", OccurredAt: at(d), OrderRef: ref, Total: total, Currency: "EUR", Coupon: coupon}
	}
	src := memSource{
		actions: []store.ReportAction{
			// Customer 1: a code on day 1, a reminder on day 3; the order on
			// day 5 redeems the code, so it is the code's, not the reminder's.
			sent(1, 1, "code", models.ActionPromoCode, 1, "SAVE-1", `{"amount":"5.00","valid_for":"10d"}`),
			sent(2, 1, "reminder", models.ActionReorderReminder, 3, "", ""),
			// Customer 2: reminder then code (no redemption): last touch wins.
			sent(3, 2, "reminder", models.ActionReorderReminder, 1, "", ""),
			sent(4, 2, "code", models.ActionPromoCode, 2, "SAVE-2", `{"percent":10}`),
			// Customer 3: reminder; the order comes after its 14-day window.
			sent(5, 3, "reminder", models.ActionReorderReminder, 1, "", ""),
			// Customer 4: reminder; ordered before it, cancelled and test orders after.
			sent(6, 4, "reminder", models.ActionReorderReminder, 5, "", ""),
			// Customer 5: a review request and a review.
			sent(7, 5, "review", models.ActionReviewRequest, 1, "", ""),
			// Customer 2 also got points after the code: a service action is
			// no touch, so the code keeps its order.
			{ID: 8, CustomerID: 2, RuleID: "points", Type: string(models.ActionPointsAward), Status: "sent", DueAt: at(3), SentAt: ptr(at(3))},
		},
		events: []store.ReportEvent{
			placed(1, 1, "o1", 5, "50.00", "save-1"),
			{ID: 2, CustomerID: 1, Type: "refund.issued", OccurredAt: at(8), OrderRef: "o1", Refund: "10.00"},
			placed(3, 2, "o2", 4, "30.00", ""),
			placed(4, 3, "o3", 16, "30.00", ""),
			placed(5, 4, "o4", 4, "30.00", ""),
			placed(6, 4, "o5", 6, "30.00", ""),
			{ID: 7, CustomerID: 4, Type: "order.cancelled", OccurredAt: at(7), OrderRef: "o5"},
			{ID: 8, CustomerID: 4, Type: "order.placed", OccurredAt: at(8), OrderRef: "o6", Total: "30.00", Test: true},
			{ID: 9, CustomerID: 5, Type: "review.submitted", OccurredAt: at(3)},
		},
	}
	shop := &models.Shop{ID: 1, Key: "s", Currency: "EUR"}
	rep, err := reports.Rules(context.Background(), src, shop, at(0), at(30), reports.Options{Now: at(90), MinSample: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]reports.RuleReport{}
	for _, r := range rep.Rules {
		got[r.RuleID] = r
	}
	code, reminder, review := got["code"], got["reminder"], got["review"]
	if p := got["points"]; p.Outcomes["order"] != 0 || p.Marketing || !strings.Contains(p.Note, "service rule") {
		t.Errorf("a service rule's action took an outcome or lacks its note: %+v", p)
	}
	if code.Outcomes["order"] != 2 || code.Outcomes["code_redeemed"] != 1 || code.Cost.CodesRedeemed != 1 || code.Cost.CodeValue != "5.00" {
		t.Errorf("code rule: %+v %+v", code.Outcomes, code.Cost)
	}
	if code.Treatment.Revenue != "70.00" || code.Treatment.Converted != 2 || code.Treatment.Customers != 2 {
		t.Errorf("code rule: revenue %s (want 40.00 net + 30.00), %d/%d converted", code.Treatment.Revenue, code.Treatment.Converted, code.Treatment.Customers)
	}
	if reminder.Outcomes["order"] != 0 || reminder.Treatment.Customers != 4 || reminder.Treatment.Converted != 0 {
		t.Errorf("reminder rule: %+v, treatment %+v", reminder.Outcomes, reminder.Treatment)
	}
	if review.Outcomes["review"] != 1 || review.Treatment.Converted != 1 || review.Conversion != "review" {
		t.Errorf("review rule: %+v %+v", review.Outcomes, review.Treatment)
	}
	if code.Holdout != nil || code.Uplift != nil || !strings.Contains(code.Note, "holdout_percent is 0") {
		t.Errorf("a rule without holdout must say why there is no uplift: %+v", code)
	}
	if code.WindowDays != 10 {
		t.Errorf("a code's window is its validity: %v days", code.WindowDays)
	}
}

// TestRules_Cost: samples are valued at their catalog cost, points at
// points.value (below a cent each), and what cannot be valued stays null.
func TestRules_Cost(t *testing.T) {
	at := func(d float64) time.Time { return t0.Add(time.Duration(d * 24 * float64(time.Hour))) }
	sent := func(id, cust int64, rule string, typ models.ActionType, sku, params string) store.ReportAction {
		return store.ReportAction{ID: id, CustomerID: cust, RuleID: rule, Type: string(typ), Status: "sent", DueAt: at(1), SentAt: ptr(at(1)), SKU: sku, Params: params}
	}
	src := memSource{actions: []store.ReportAction{
		sent(1, 1, "sample", models.ActionSampleGift, "SAMPLE-A", ""),
		sent(2, 2, "sample", models.ActionSampleGift, "SAMPLE-A", ""),
		sent(3, 3, "other-sample", models.ActionSampleGift, "SAMPLE-UNKNOWN", ""),
		sent(4, 1, "points", models.ActionPointsAward, "", `{"points":150}`),
		sent(5, 2, "points", models.ActionPointsAward, "", `{"points":50}`),
	}}
	cost := map[string]models.Money{"SAMPLE-A": "0.80"}
	opt := reports.Options{Now: at(90), MinSample: 1, PointValue: "0.005",
		SampleCost: func(sku string) (models.Money, bool) { c, ok := cost[sku]; return c, ok }}
	rep, err := reports.Rules(context.Background(), src, &models.Shop{ID: 1, Key: "s"}, at(0), at(30), opt)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]reports.Cost{}
	for _, r := range rep.Rules {
		got[r.RuleID] = r.Cost
	}
	if c := got["sample"]; c.SamplesSent != 2 || c.SampleValue == nil || *c.SampleValue != "1.60" || c.Total != "1.60" {
		t.Errorf("samples: %+v", c)
	}
	if c := got["other-sample"]; c.SamplesSent != 1 || c.SampleValue != nil || c.Total != "0.00" {
		t.Errorf("a sample without a catalog cost: %+v", c)
	}
	if c := got["points"]; c.PointsAwarded != 200 || c.PointsValue == nil || *c.PointsValue != "1.00" {
		t.Errorf("200 points at 0.005: %+v", c)
	}
}
