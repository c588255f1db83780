package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
)

// reportEvents collects what ReportEvents streams for shop 1 in March 2026.
func reportEvents(t *testing.T, s *store.Store) []store.ReportEvent {
	t.Helper()
	var got []store.ReportEvent
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	err := s.ReportEvents(context.Background(), 1, from, from.AddDate(0, 1, 0), func(rows []store.ReportEvent) error {
		got = append(got, rows...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i].ID, got[i].OccurredAt = 0, got[i].OccurredAt.UTC()
	}
	return got
}

var (
	figuresAt = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	// The events whose figures the report reads, with their documents as
	// the processor stores them; order.paid repeats the total, which the
	// report must not read as a second order.
	figureEvents = []struct{ typ, order, data string }{
		{"order.placed", "o-1", `{"customer":{"id":"c"},"order":{"id":"o-1","currency":"EUR","total":"49.90","coupon":" SAVE10 ","test":true}}`},
		{"order.paid", "o-1", `{"customer":{"id":"c"},"order":{"id":"o-1","currency":"EUR","total":"49.90"}}`},
		{"order.placed", "o-2", `{"customer":{"id":"c"},"order":{"id":"o-2","currency":"CHF","total":"12"}}`},
		{"refund.issued", "o-1", `{"customer":{"id":"c"},"order":{"id":"o-1"},"refund":{"amount":"10.00","currency":"EUR"}}`},
		{"review.submitted", "", `{"customer":{"id":"c"},"review":{"rating":5}}`},
	}
	wantFigures = []store.ReportEvent{
		{CustomerID: 7, Type: "order.placed", OccurredAt: figuresAt, OrderRef: "o-1", Total: "49.90", Currency: "EUR", Coupon: "SAVE10", Test: true},
		{CustomerID: 7, Type: "order.placed", OccurredAt: figuresAt.Add(2 * time.Hour), OrderRef: "o-2", Total: "12", Currency: "CHF"},
		{CustomerID: 7, Type: "refund.issued", OccurredAt: figuresAt.Add(3 * time.Hour), OrderRef: "o-1", Refund: "10.00", Currency: "EUR"},
		{CustomerID: 7, Type: "review.submitted", OccurredAt: figuresAt.Add(4 * time.Hour)},
	}
)

// TestReportEvents_Figures: the report reads an event's figures from the
// columns Describe fills in, the same as the document says.
func TestReportEvents_Figures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		s := storetest.Open(t, driver)
		for i, fe := range figureEvents {
			r := &store.EventRecord{ShopID: 1, CustomerID: 7, Type: fe.typ, StepKey: fe.typ + "|" + fe.order,
				OccurredAt: figuresAt.Add(time.Duration(i) * time.Hour), ReceivedAt: figuresAt, Platform: "standard", DeliveryID: "d", Data: fe.data}
			e, err := r.Event()
			if err != nil {
				t.Fatal(err)
			}
			r.Describe(&e)
			if _, err := s.InsertEvent(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		got := reportEvents(t, s)
		sortReportEvents(got)
		if d := cmp.Diff(wantFigures, got); d != "" {
			t.Fatalf("report events (-want +got):\n%s", d)
		}
	})
}

// TestMigration10_BackfillsFigures: migration 10 fills the new columns of
// the events an older schema stored from their documents, on both
// databases (JSON_VALUE on MySQL and MariaDB, json_extract on SQLite).
func TestMigration10_BackfillsFigures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		s := storetest.OpenEmpty(t, driver)
		if _, err := s.MigrateTo(ctx, 9); err != nil {
			t.Fatal(err)
		}
		for i, fe := range figureEvents {
			err := s.Exec(ctx, `INSERT INTO events (shop_id, customer_id, type, step_key, occurred_at, received_at, platform, inbox_id, delivery_id, order_ref, data)
				VALUES (1, 7, ?, ?, ?, ?, 'standard', 0, 'd', ?, ?)`,
				fe.typ, fe.typ+"|"+fe.order, figuresAt.Add(time.Duration(i)*time.Hour), figuresAt, fe.order, fe.data)
			if err != nil {
				t.Fatal(err)
			}
		}
		if v, err := s.Migrate(ctx); err != nil || v < 10 {
			t.Fatalf("migrate: version %d, %v", v, err)
		}
		got := reportEvents(t, s)
		sortReportEvents(got)
		if d := cmp.Diff(wantFigures, got); d != "" {
			t.Fatalf("report events after the migration (-want +got):\n%s", d)
		}
	})
}

// sortReportEvents puts events in time order: the query streams them in
// index order (type, then time).
func sortReportEvents(es []store.ReportEvent) {
	slices.SortFunc(es, func(a, b store.ReportEvent) int { return a.OccurredAt.Compare(b.OccurredAt) })
}

// TestReportActions_GeneratedColumns: the holdout flag and the params the
// report reads come from generated columns that follow the row (a replan
// into or out of the holdout included), and params too long for the index
// are read from the row, on both databases.
func TestReportActions_GeneratedColumns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		s := storetest.Open(t, driver)
		due := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		long := strings.Repeat("x", 120)
		as := []*models.Action{
			{Type: models.ActionPromoCode, Status: models.ActionSuppressed, Reason: "holdout", Params: map[string]any{"amount": "5.00", "valid_for": "30d"}},
			{Type: models.ActionPromoCode, Status: models.ActionSuppressed, Reason: "consent", Params: map[string]any{"percent": 10.0, "note": long}},
			{Type: models.ActionPointsAward, Status: models.ActionScheduled, Params: map[string]any{"points": 50.0}},
			{Type: models.ActionReorderReminder, Status: models.ActionScheduled, Params: map[string]any{"sku": "TEA"}},
		}
		for i, a := range as {
			a.ShopID, a.CustomerID, a.RuleID, a.DueAt, a.Marketing = 1, 7, "r", due.Add(time.Duration(i)*time.Hour), true
			a.IdempotencyKey = fmt.Sprintf("k-%d", i)
		}
		if err := s.InsertActions(ctx, as); err != nil {
			t.Fatal(err)
		}
		// The reminder is held out after all; the points award was, and is not.
		for _, a := range []struct {
			id     int64
			status models.ActionStatus
			reason string
		}{{as[3].ID, models.ActionSuppressed, "holdout"}, {as[2].ID, models.ActionScheduled, ""}} {
			if ok, err := s.Replan(ctx, a.id, a.status, a.reason, due); err != nil || !ok {
				t.Fatalf("replan %d: %v %v", a.id, ok, err)
			}
		}
		got := map[int64]store.ReportAction{}
		err := s.ReportActions(ctx, 1, due.Add(-48*time.Hour), due.Add(48*time.Hour), func(rows []store.ReportAction) error {
			for _, r := range rows {
				got[r.ID] = r
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []struct {
			holdout bool
			params  string
		}{
			{true, `{"amount":"5.00","valid_for":"30d"}`},
			{false, `{"note":"` + long + `","percent":10}`},
			{false, `{"points":50}`},
			{true, ""},
		} {
			r, ok := got[as[i].ID]
			if !ok {
				t.Fatalf("action %d not reported", i)
			}
			if r.Holdout != want.holdout || r.Params != want.params {
				t.Errorf("action %d: holdout %v params %q, want %v %q", i, r.Holdout, r.Params, want.holdout, want.params)
			}
		}
		if len(got) != len(as) {
			t.Fatalf("%d actions reported, want %d", len(got), len(as))
		}
	})
}
