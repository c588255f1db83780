package support_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/support"
)

// fakeStore serves one customer's timeline: an order placed (number 10042)
// and two actions, one on that order's event, one from the periodic scan.
type fakeStore struct {
	support.Store
	entries []store.TimelineEntry
	gotCur  *store.Cursor
}

func (f *fakeStore) CustomerByPublicID(_ context.Context, shopID int64, publicID string) (*models.Profile, time.Time, error) {
	if shopID != 1 || publicID != "p-1" {
		return nil, time.Time{}, models.ErrNotFound
	}
	return &models.Profile{CustomerID: 7, PublicID: "p-1"}, time.Unix(0, 0), nil
}

func (f *fakeStore) Timeline(_ context.Context, shopID, customerID int64, cur *store.Cursor, _ store.TimelineFilter, limit int) ([]store.TimelineEntry, bool, error) {
	f.gotCur = cur
	return f.entries[:limit], limit < len(f.entries), nil
}

type accessLog []models.Access

func (l *accessLog) Record(_ context.Context, a models.Access) error {
	*l = append(*l, a)
	return nil
}

type waiting struct{}

func (waiting) Waiting(_ *models.Shop, a *models.Action) string { return "due " + a.PublicID }

func TestTimeline(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	trig := int64(11)
	placed := store.EventRecord{ID: 11, Type: string(models.OrderPlaced), OccurredAt: t0, ReceivedAt: t0, OrderRef: "o-9",
		Data: `{"customer":{"id":"c"},"order":{"id":"o-9","number":"10042","total":"29.90","currency":"EUR","items":[{"sku":"B","quantity":2}]}}`}
	entries := []store.TimelineEntry{
		{Cursor: store.Cursor{At: t0.Add(2 * time.Hour), Kind: store.KindAction, ID: 5},
			Action: &store.ActionRow{ID: 5, PublicID: "a-5", Type: "reorder_reminder", Status: "scheduled", RuleID: "reorder", TriggerEventID: &trig, OrderRef: "o-9", SKU: "B", CreatedAt: t0.Add(2 * time.Hour)}},
		{Cursor: store.Cursor{At: t0.Add(time.Hour), Kind: store.KindAction, ID: 4},
			Action: &store.ActionRow{ID: 4, PublicID: "a-4", Type: "notify", Status: "sent", RuleID: "birthday", CreatedAt: t0.Add(time.Hour)}},
		{Cursor: store.Cursor{At: t0, Kind: store.KindEvent, ID: 11}, Event: &placed},
		{Cursor: store.Cursor{At: t0.Add(-time.Hour), Kind: store.KindEvent, ID: 10},
			Event: &store.EventRecord{ID: 10, Type: string(models.CustomerRegistered), OccurredAt: t0.Add(-time.Hour), Data: `{"customer":{"id":"c"}}`}},
	}
	// The trigger as the store joins it: without its data.
	entries[0].Trigger = &store.EventRecord{ID: 11, Type: placed.Type, OrderRef: "o-9", OccurredAt: t0, Data: "{}"}
	fs := &fakeStore{entries: entries}
	var log accessLog
	svc := &support.Service{Store: fs, Access: &log, Dispatch: waiting{}}
	shop := &models.Shop{ID: 1, Key: "acme"}
	ctx := context.Background()

	c, err := svc.Customer(ctx, shop, "p-1", 3, "timeline")
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0] != (models.Access{ShopID: 1, TokenID: 3, CustomerID: 7, What: "timeline"}) {
		t.Fatalf("access log %+v", log)
	}
	if _, err := svc.Customer(ctx, shop, "p-2", 3, "timeline"); !errors.Is(err, models.ErrNotFound) || len(log) != 1 {
		t.Fatalf("unknown customer: %v, %d logged", err, len(log))
	}

	page, err := svc.Timeline(ctx, shop, c.CustomerID, support.TimelineQuery{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 || page.Next == "" {
		t.Fatalf("page: %d items, next %q", len(page.Items), page.Next)
	}
	reminder, scan, ev := page.Items[0], page.Items[1], page.Items[2]
	if reminder.Why != "rule reorder on order.placed (order 10042) for B" || reminder.OrderNumber != "10042" ||
		reminder.Trigger == nil || reminder.Trigger.ID != "e-11" || reminder.Waiting != "due a-5" {
		t.Fatalf("reminder %+v", reminder)
	}
	if scan.Why != "rule birthday on the periodic scan" || *scan.Attempts != 0 || scan.DueAt == nil {
		t.Fatalf("scan %+v", scan)
	}
	if ev.Kind != "event" || ev.ID != "e-11" || ev.Summary != "Order 10042 placed: 2 item(s), 29.90 EUR" || ev.ReceivedAt == nil || ev.DueAt != nil {
		t.Fatalf("event %+v", ev)
	}

	cur, err := support.ParseCursor(page.Next)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Timeline(ctx, shop, c.CustomerID, support.TimelineQuery{After: cur, Limit: 4}); err != nil {
		t.Fatal(err)
	}
	if fs.gotCur == nil || *fs.gotCur != entries[2].Cursor {
		t.Fatalf("cursor read back as %+v, want %+v", fs.gotCur, entries[2].Cursor)
	}
	for _, bad := range []string{"x", "MXwyfDM", "bm8"} {
		if _, err := support.ParseCursor(bad); !errors.Is(err, support.ErrBadCursor) {
			t.Errorf("ParseCursor(%q) = %v", bad, err)
		}
	}
}

func TestParseTypes(t *testing.T) {
	if _, err := support.ParseTypes("events, action.notify,order.paid,,actions"); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"action.fly": `unknown action type "fly"`,
		"order.lost": `unknown type "order.lost": use an event type, action.<type>, events or actions`,
	} {
		if _, err := support.ParseTypes(in); err == nil || err.Error() != want {
			t.Errorf("ParseTypes(%q) = %v, want %s", in, err, want)
		}
	}
}
