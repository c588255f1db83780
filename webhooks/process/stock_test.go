package process_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/standard"
	"github.com/treue/treue/rules"
	"github.com/treue/treue/webhooks/process"
)

// TestProcessor_RestockOfHundreds: 300 subscribers of one SKU, their
// subscriptions arriving newest first, then the restock. The notices are
// recorded 50 per transaction, oldest subscription first, 40 per hour; each
// plans the example's notice at its slot. A subscription older than the
// restock that arrives after it joins the end of the queue: the notices
// before it may have gone out.
func TestProcessor_RestockOfHundreds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		set := exampleSet(t)
		clock := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) // 10:00 in Berlin
		st := storetest.Open(t, driver)
		shop := &models.Shop{Key: "acme", Platform: models.PlatformStandard, Source: "cli", Timezone: "Europe/Berlin",
			Secrets: models.ShopSecrets{Webhook: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
		if err := st.SaveShop(ctx, shop); err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(tLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
		now := func() time.Time { return clock }
		proc := &process.Processor{
			Store:     st,
			Receivers: map[models.Platform]plugin.Receiver{models.PlatformStandard: standard.New(time.Minute)},
			Planner:   &process.RulesPlanner{Rules: rules.NewHolder(set), Log: log, Now: now, Options: journey.DefaultOptions},
			Log:       log, Options: journey.DefaultOptions, BatchSize: 64, MaxAttempts: 3, Now: now,
			StockPerHour: 40, StockPage: 50,
		}
		const n, sku = 300, "BEAN-ESP-1KG"
		var items []*models.Delivery
		add := func(id, typ, data string, at time.Time) {
			body := fmt.Sprintf(`{"type":%q,"timestamp":%q,"data":%s}`, typ, at.Format(time.RFC3339), data)
			items = append(items, &models.Delivery{ShopID: shop.ID, Platform: string(models.PlatformStandard), DeliveryID: id,
				Topic: typ, Headers: store.EncodeHeaders(http.Header{"Webhook-Id": {id}}), Body: []byte(body)})
		}
		subAt := func(i int) time.Time { return clock.Add(-time.Duration(n-i) * time.Minute) }
		add("level-0", "product.stock_changed", fmt.Sprintf(`{"product":{"sku":%q,"stock":0}}`, sku), clock.Add(-24*time.Hour))
		for i := n - 1; i >= 0; i-- {
			add(fmt.Sprintf("sub-%d", i), "stock.subscribed", fmt.Sprintf(`{"customer":{"id":"c-%d"},"subscription":{"sku":%q}}`, i, sku), subAt(i))
		}
		// The restock names whoever saved it: still a shop event.
		add("restock", "product.stock_changed", fmt.Sprintf(`{"customer":{"id":"admin"},"product":{"sku":%q,"stock":5}}`, sku), clock)
		drain := func() {
			t.Helper()
			if _, err := st.InsertInboxBatch(ctx, items); err != nil {
				t.Fatal(err)
			}
			items = nil
			for {
				k, err := proc.ProcessBatch(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if k == 0 {
					break
				}
			}
		}
		drain()
		subs, err := st.StockSubscriptions(ctx, shop.ID, sku)
		if err != nil {
			t.Fatal(err)
		}
		if len(subs) != n {
			t.Fatalf("%d subscriptions, want %d", len(subs), n)
		}
		for i, sub := range subs {
			prof, err := st.CustomerByIdentity(ctx, shop.ID, models.IdentityID, fmt.Sprintf("c-%d", i))
			if err != nil {
				t.Fatal(err)
			}
			if sub.CustomerID != prof.CustomerID || sub.NoticeEventID == nil {
				t.Fatalf("subscription %d: %+v, want c-%d's, notified", i, sub, i)
			}
			_, events, err := st.Journey(ctx, prof.CustomerID)
			if err != nil {
				t.Fatal(err)
			}
			var r *models.Restock
			for _, e := range events {
				if e.Type == models.StockAvailable {
					r = e.Data.Restock
				}
			}
			slot := clock.Add(time.Duration(i/40) * time.Hour)
			if r == nil || r.Rank != i+1 || r.Subscribers != n || r.Slot != i/40+1 || r.Slots != 8 || !r.SlotAt.Equal(slot) {
				t.Fatalf("c-%d's notice: %+v, want rank %d of %d in slot %d of 8 at %v", i, r, i+1, n, i/40+1, slot)
			}
			acts, err := st.CustomerActions(ctx, prof.CustomerID)
			if err != nil {
				t.Fatal(err)
			}
			if len(acts) != 1 || acts[0].RuleID != "back-in-stock" || acts[0].Status != models.ActionScheduled || !acts[0].DueAt.Equal(slot) || acts[0].SKU != sku {
				t.Fatalf("c-%d's actions: %+v, want the notice due %v", i, acts, slot)
			}
		}
		if _, _, pending, err := st.PendingRestock(ctx); err != nil || pending {
			t.Fatalf("restock still pending: %v %v", pending, err)
		}
		if _, err := st.CustomerByIdentity(ctx, shop.ID, models.IdentityID, "admin"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("the restock's author became a customer: %v", err)
		}

		add("sub-late", "stock.subscribed", fmt.Sprintf(`{"customer":{"id":"c-late"},"subscription":{"sku":%q}}`, sku), subAt(0).Add(-time.Minute))
		drain()
		prof, err := st.CustomerByIdentity(ctx, shop.ID, models.IdentityID, "c-late")
		if err != nil {
			t.Fatal(err)
		}
		_, events, err := st.Journey(ctx, prof.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 || events[1].Type != models.StockAvailable || events[1].Data.Restock.Rank != n+1 || events[1].Data.Restock.Slot != 8 {
			t.Fatalf("the late subscription's journey: %+v", events)
		}
	})
}
