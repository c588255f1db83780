package privacy_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/webhooks/privacy"
)

// TestRetention_Boundaries: a payload or event just older than its limit is
// purged, one just younger stays; batches smaller than the backlog still
// purge it all.
func TestRetention_Boundaries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		st := storetest.Open(t, driver)
		// The rows below belong to shop 1, which must exist: the purge
		// deletes what is left of removed shops.
		if err := st.SaveShop(ctx, &models.Shop{Key: "s1", Platform: models.PlatformStandard, Name: "S1"}); err != nil {
			t.Fatal(err)
		}
		if sh, _ := st.ShopByKey(ctx, "s1"); sh == nil || sh.ID != 1 {
			t.Fatalf("shop s1: %+v, want id 1", sh)
		}
		now := time.Now().UTC().Truncate(time.Second)
		const day = 24 * time.Hour
		rawAge, eventAge := 30*day, 1095*day
		for i, age := range []time.Duration{rawAge + time.Second, rawAge + time.Hour, rawAge + 2*time.Hour, rawAge - time.Second} {
			st.Now = func() time.Time { return now.Add(-age) }
			it := &models.Delivery{ShopID: 1, Platform: "standard", DeliveryID: string(rune('a' + i)), Headers: `{"X":["y"]}`, Body: []byte("{}")}
			if _, err := st.InsertInbox(ctx, it); err != nil {
				t.Fatal(err)
			}
			if err := st.FinishInbox(ctx, it.ID); err != nil {
				t.Fatal(err)
			}
		}
		for i, age := range []time.Duration{eventAge + time.Second, eventAge - time.Second} {
			_, err := st.InsertEvent(ctx, &store.EventRecord{ShopID: 1, CustomerID: 1, Type: "order.paid", StepKey: string(rune('a' + i)),
				OccurredAt: now.Add(-age), ReceivedAt: now, Platform: "standard", DeliveryID: "d", Data: "{}"})
			if err != nil {
				t.Fatal(err)
			}
		}
		st.Now = func() time.Time { return now }
		r := &privacy.Retention{Store: st, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
			RawPayload: rawAge, Events: eventAge, Batch: 2}
		payloads, events, err := r.PurgeOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if payloads != 3 || events != 1 {
			t.Fatalf("purged %d payloads and %d events, want 3 and 1", payloads, events)
		}
		kept, err := st.InboxByDelivery(ctx, 1, "d")
		if err != nil || string(kept.Body) != "{}" {
			t.Fatalf("the young payload was purged: %v %q", err, kept.Body)
		}
		gone, _ := st.InboxByDelivery(ctx, 1, "a")
		if gone.Body != nil || gone.Headers != "{}" {
			t.Fatalf("the old payload was kept: %q %q", gone.Body, gone.Headers)
		}
		if evs, _ := st.CustomerEvents(ctx, 1); len(evs) != 1 || evs[0].StepKey != "b" {
			t.Fatalf("events left: %+v", evs)
		}
	})
}
