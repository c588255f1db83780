package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/webhooks/privacy"
)

// TestShopRemoved_NothingStaysBehind: a delivery accepted while a shop
// cache still knew a removed shop is deleted by the processor (SQLite) or
// the retention job (MySQL, where batches are per shop), and the
// retention job purges whatever a batch wrote for the shop after its removal.
func TestShopRemoved_NothingStaysBehind(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, "")
		in := e.serve(t)
		url := in.URL + "/webhooks/standard/acme"
		if code, m := post(t, url, "msg_1", placed); code != 200 {
			t.Fatalf("%d %v", code, m)
		}
		waitDrained(t, e)
		st := e.store(t)
		ctx := context.Background()
		shop, _ := st.ShopByKey(ctx, "acme")
		if _, err := e.run(t, "shops", "remove", "acme", "--yes"); err != nil {
			t.Fatal(err)
		}
		// The server's shop cache still knows acme for up to two seconds.
		if code, _ := post(t, url, "msg_2", paid); code != 200 {
			// The cache had expired already: store what it would have accepted.
			if _, err := st.InsertInbox(ctx, &models.Delivery{ShopID: shop.ID, Platform: "standard", DeliveryID: "msg_2",
				Headers: `{"Webhook-Id":["msg_2"]}`, Body: []byte(paid)}); err != nil {
				t.Fatal(err)
			}
		}
		r := &privacy.Retention{Store: st, Log: slog.New(slog.DiscardHandler), Now: time.Now, RawPayload: time.Hour, Events: time.Hour, Batch: 100}
		waitFor(t, func() bool {
			if driver == "mysql" {
				// On MySQL the processor visits the shops that exist, one at
				// a time: what is left of a removed one the retention job purges.
				if _, _, err := r.PurgeOnce(ctx); err != nil {
					t.Error(err)
				}
			}
			items, err := st.ListInbox(ctx, store.InboxFilter{ShopID: shop.ID}, 10)
			return err == nil && len(items) == 0
		})
		if ids, _ := st.ShopCustomerIDs(ctx, shop.ID); len(ids) != 0 {
			t.Fatalf("%d customers of the removed shop", len(ids))
		}
		// A batch that read the shop before the removal and wrote after it.
		if err := st.InTx(ctx, func(tx *store.Store) error {
			_, _, err := tx.ResolveCustomer(ctx, shop.ID, models.CustomerRef{ID: "late", Email: "late@example.org"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.PurgeOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if ids, _ := st.ShopCustomerIDs(ctx, shop.ID); len(ids) != 0 {
			t.Fatalf("%d customers of the removed shop after the purge", len(ids))
		}
		if p, err := st.CustomerByIdentity(ctx, shop.ID, models.IdentityEmail, "late@example.org"); err == nil {
			t.Fatalf("an identity of the removed shop is left: %+v", p)
		}
	})
}
