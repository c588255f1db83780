package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

// TestWebhook_AuthenticButUnparsed: a delivery whose signature is valid is
// never lost for its content. It is stored as unparsed and answered 200 with
// what is wrong, counted, listed by `treue inbox list --status unparsed`, and
// `treue inbox replay` processes it again.
func TestWebhook_AuthenticButUnparsed(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		signer := newAdobeSigner(t, filepath.Base(adobeKeyPath))
		e := newEnv(t, driver, signer.shop("    timezone: Europe/Berlin\n"))
		in := e.serve(t)
		st := e.store(t)
		ctx := context.Background()
		acme, _ := st.ShopByKey(ctx, "acme")
		adobeShop, _ := st.ShopByKey(ctx, "acme-eu")

		// Standard Webhooks: broken JSON and a missing field, signed.
		code, m := post(t, in.URL+"/webhooks/standard/acme", "msg_broken", `{"type":"order.paid",`)
		if code != 200 || m["status"] != "unparsed" || !strings.Contains(fmt.Sprint(m["detail"]), "malformed") {
			t.Fatalf("signed broken JSON: %d %v", code, m)
		}
		missing := `{"type":"order.paid","timestamp":"2026-11-02T09:16:00Z","data":{"customer":{"id":"c-77"}}}`
		code, m = post(t, in.URL+"/webhooks/standard/acme", "msg_missing", missing)
		if code != 200 || m["status"] != "unparsed" || !strings.Contains(fmt.Sprint(m["errors"]), "data.order.id") {
			t.Fatalf("signed event without its order: %d %v", code, m)
		}
		if code, m = post(t, in.URL+"/webhooks/standard/acme", "msg_missing", missing); code != 200 || m["status"] != "duplicate" {
			t.Fatalf("the sender's retry: %d %v", code, m)
		}

		// Adobe I/O: a date-only created_at is the shop's midnight; an
		// event naming no customer at all is kept unparsed.
		adobe := func(eventID string, edit func(v map[string]any)) (int, map[string]any) {
			t.Helper()
			var doc map[string]any
			json.Unmarshal(must(readFixture("adobe", "order_new.json")), &doc)
			edit(doc["data"].(map[string]any)["value"].(map[string]any))
			body, _ := json.Marshal(doc)
			code, b := do(t, "POST", in.URL+"/webhooks/adobe/acme-eu", signer.headers(t, body, eventID), body)
			var m map[string]any
			json.Unmarshal(b, &m)
			return code, m
		}
		if code, m := adobe("ev-date", func(v map[string]any) { v["created_at"], v["updated_at"] = "2026-03-02", "2026-03-02" }); code != 200 || m["status"] != "stored" {
			t.Fatalf("date-only created_at: %d %v", code, m)
		}
		if code, m := adobe("ev-nobody", func(v map[string]any) {
			for _, k := range []string{"customer_id", "customer_email", "customer_firstname", "customer_lastname"} {
				delete(v, k)
			}
		}); code != 200 || m["status"] != "unparsed" || !strings.Contains(fmt.Sprint(m["errors"]), "data.customer") {
			t.Fatalf("an order naming no customer: %d %v", code, m)
		}
		waitDrained(t, e)
		ids, _ := st.ShopCustomerIDs(ctx, adobeShop.ID)
		if len(ids) != 1 {
			t.Fatalf("%d Adobe customers, want 1", len(ids))
		}
		evs, _ := st.CustomerEvents(ctx, ids[0])
		if len(evs) != 1 || !strings.Contains(evs[0].Data, `"placed_at":"2026-03-01T23:00:00Z"`) {
			t.Fatalf("the date-only order is not placed at midnight in Berlin: %+v", evs)
		}

		out, err := e.run(t, "inbox", "list", "--status", "unparsed")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"msg_broken", "msg_missing", "ev-nobody", "data.order.id: is required for order.paid"} {
			if !strings.Contains(out, want) {
				t.Fatalf("inbox list --status unparsed lacks %q:\n%s", want, out)
			}
		}
		resp, err := http.Get(in.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(metrics), `treue_webhooks_total{outcome="unparsed",platform="standard"} 2`) ||
			!strings.Contains(string(metrics), `treue_webhooks_total{outcome="unparsed",platform="adobe"} 1`) {
			t.Fatalf("the unparsed deliveries are not counted:\n%s", metrics)
		}

		// A delivery an older version could not parse (stored unparsed
		// with a body that parses now) is recorded once replayed; one that
		// still does not parse is marked unparsed again by the processor.
		if _, err := st.InsertInbox(ctx, &models.Delivery{ShopID: acme.ID, Platform: "standard", DeliveryID: "msg_old", Topic: "order.placed",
			Headers: `{"Webhook-Id":["msg_old"]}`, Body: []byte(placed), Status: store.InboxUnparsed}); err != nil {
			t.Fatal(err)
		}
		if out, err := e.run(t, "inbox", "replay", "--shop", "acme", "--status", "unparsed"); err != nil || !strings.Contains(out, "3 deliveries queued again") {
			t.Fatalf("replay: %q %v", out, err)
		}
		waitDrained(t, e)
		old, err := st.InboxByDelivery(ctx, acme.ID, "msg_old")
		if err != nil || old.Status != store.InboxDone {
			t.Fatalf("the replayed delivery: %+v %v", old, err)
		}
		broken, _ := st.InboxByDelivery(ctx, acme.ID, "msg_broken")
		if broken.Status != store.InboxUnparsed || broken.Attempts != 1 || broken.Error == nil || !strings.Contains(*broken.Error, "malformed") {
			t.Fatalf("the replayed broken delivery: %+v", broken)
		}
		if _, err := e.run(t, "inbox", "replay", "--status", "done"); err == nil {
			t.Fatal("replaying processed deliveries must be refused")
		}
		if _, err := e.run(t, "inbox", "list", "--status", "bogus"); err == nil {
			t.Fatal("an unknown status must be refused")
		}
	})
}
