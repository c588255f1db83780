package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

// bigOrder is a canonical order.placed with n distinct line items.
func bigOrder(day int, order, prefix string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"type":"order.placed","timestamp":"2026-11-%02dT09:15:00Z","data":{"customer":{"id":"c-wholesale","email":"buyer@example.org"},"order":{"id":%q,"currency":"EUR","total":"%d.00","items":[`, day, order, n)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"%s-%05d","name":"Ersatzteil %05d für Großabnehmer","category":"parts-%d","quantity":1,"unit_price":"1.00"}`, prefix, i, i, i%50)
	}
	b.WriteString(`]}}}`)
	return b.String()
}

// TestLargeDocuments: a 1 MB order and a customer who has bought 5,000
// distinct SKUs are acknowledged and processed, never acknowledged and then
// failed (MySQL's TEXT held 64 KiB).
func TestLargeDocuments(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, "")
		cfg := strings.Replace(string(must(os.ReadFile(e.configPath))), "http:\n", "http:\n  max_body_bytes: 2097152\n", 1)
		if err := os.WriteFile(e.configPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		in := e.serve(t)
		url := in.URL + "/webhooks/standard/acme"
		huge := bigOrder(1, "o-huge", "HUGE", 9000)
		if len(huge) < 1<<20 {
			t.Fatalf("the order is %d bytes, want over 1 MiB", len(huge))
		}
		if code, m := post(t, url, "big-0", huge); code != 200 || m["status"] != "stored" {
			t.Fatalf("1 MB order: %d %v", code, m)
		}
		for o := 1; o <= 5; o++ {
			if code, m := post(t, url, fmt.Sprintf("big-%d", o), bigOrder(1+o, fmt.Sprintf("o-%d", o), fmt.Sprintf("S%d", o), 1000)); code != 200 {
				t.Fatalf("order %d: %d %v", o, code, m)
			}
		}
		waitDrained(t, e)
		st := e.store(t)
		ctx := context.Background()
		shop, _ := st.ShopByKey(ctx, "acme")
		items, err := st.ListInbox(ctx, store.InboxFilter{ShopID: shop.ID}, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Status != store.InboxDone {
				t.Fatalf("delivery %s is %s: %v", it.DeliveryID, it.Status, *it.Error)
			}
		}
		prof, err := st.CustomerByIdentity(ctx, shop.ID, models.IdentityID, "c-wholesale")
		if err != nil {
			t.Fatal(err)
		}
		if prof.OrderCount != 6 || len(prof.SKUs) != 1000 || prof.SKUs[0] != "S5-00000" || prof.SKUs[999] != "S5-00999" {
			t.Fatalf("profile: %d orders, %d SKUs starting %v", prof.OrderCount, len(prof.SKUs), prof.SKUs[:1])
		}
		evs, _ := st.CustomerEvents(ctx, prof.CustomerID)
		if len(evs) != 6 || !strings.Contains(evs[0].Data, "HUGE-08999") {
			t.Fatalf("%d events; the 1 MB order's data must be kept whole", len(evs))
		}
	})
}

// TestDeliveryIDs_LongOrNotUTF8: a delivery id too long for the column or
// not UTF-8 is stored under its hash, so the first delivery is stored and
// a retry is a duplicate, on MySQL as on SQLite (not 503 for ever).
func TestDeliveryIDs_LongOrNotUTF8(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, "")
		in := e.serve(t)
		url := in.URL + "/webhooks/standard/acme"
		long := "msg_" + strings.Repeat("x", 300)
		for _, id := range []string{long, "msg_\xff\xfe-latin1-ä\xe4", "msg_" + strings.Repeat("ä", 100)} {
			for try, want := range []string{"stored", "duplicate"} {
				code, m := post(t, url, id, placed)
				if code != 200 || m["status"] != want {
					t.Fatalf("id %q, try %d: %d %v, want %s", id, try, code, m, want)
				}
			}
		}
		waitDrained(t, e)
		st := e.store(t)
		ctx := context.Background()
		shop, _ := st.ShopByKey(ctx, "acme")
		items, _ := st.ListInbox(ctx, store.InboxFilter{ShopID: shop.ID}, 10)
		if len(items) != 3 {
			t.Fatalf("%d deliveries stored, want 3", len(items))
		}
		for _, it := range items {
			if it.Status != store.InboxDone || len(it.DeliveryID) > 191 {
				t.Fatalf("delivery %q: %s", it.DeliveryID, it.Status)
			}
		}
	})
}
