package process_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/standard"
	"github.com/treue/treue/rules"
	"github.com/treue/treue/webhooks/process"
)

// ordersEnv is a store with one Standard Webhooks shop and a processor with
// the example rules (holdout off).
type ordersEnv struct {
	st   *store.Store
	shop *models.Shop
	proc *process.Processor
	n    int
}

func newOrdersEnv(t *testing.T, driver, currency string) *ordersEnv {
	t.Helper()
	ctx := context.Background()
	set := exampleSet(t)
	st := storetest.Open(t, driver)
	shop := &models.Shop{Key: "acme", Platform: models.PlatformStandard, Source: "cli", Currency: currency,
		Secrets: models.ShopSecrets{Webhook: []string{"x"}}}
	if err := st.SaveShop(ctx, shop); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(tLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return &ordersEnv{st: st, shop: shop, proc: &process.Processor{
		Store:     st,
		Receivers: map[models.Platform]plugin.Receiver{models.PlatformStandard: standard.New(time.Minute)},
		Planner:   &process.RulesPlanner{Rules: rules.NewHolder(set), Log: log, Now: time.Now, Options: journey.DefaultOptions},
		Log:       log, Options: journey.DefaultOptions, BatchSize: 50, MaxAttempts: 3, Now: time.Now,
		Metrics: process.NewMetrics(prometheus.NewRegistry()),
	}}
}

// send stores canonical events as deliveries and processes them, in one
// batch each (batch) or the careful way; each step's source time is at.
func (e *ordersEnv) send(t *testing.T, careful bool, steps ...string) {
	t.Helper()
	ctx := context.Background()
	for _, body := range steps {
		e.n++
		id := fmt.Sprintf("msg-%d", e.n)
		it := &models.Delivery{ShopID: e.shop.ID, Platform: string(models.PlatformStandard), DeliveryID: id,
			Headers: store.EncodeHeaders(http.Header{"Webhook-Id": {id}}), Body: []byte(body)}
		if _, err := e.st.InsertInboxBatch(ctx, []*models.Delivery{it}); err != nil {
			t.Fatal(err)
		}
		process := e.proc.ProcessBatch
		if careful {
			process = e.proc.ProcessBatchCareful
		}
		if _, err := process(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n, _, err := e.st.InboxBacklog(ctx); err != nil || n != 0 {
		t.Fatalf("backlog %d, %v: a delivery failed", n, err)
	}
}

func (e *ordersEnv) customer(t *testing.T, id string) (*models.Profile, []store.EventRecord, []models.Action) {
	t.Helper()
	ctx := context.Background()
	prof, err := e.st.CustomerByIdentity(ctx, e.shop.ID, models.IdentityID, id)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := e.st.CustomerEvents(ctx, prof.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	acts, err := e.st.CustomerActions(ctx, prof.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	return prof, evs, acts
}

func step(typ string, at time.Time, data string) string {
	return fmt.Sprintf(`{"type":%q,"timestamp":%q,"data":%s}`, typ, at.UTC().Format(time.RFC3339), data)
}

// TestProcessor_RefundCurrency: a refund whose delivery names no currency is
// recorded in its order's, or the shop's when no event of the order has one.
func TestProcessor_RefundCurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		for _, careful := range []bool{false, true} {
			t.Run(fmt.Sprintf("careful=%v", careful), func(t *testing.T) {
				e := newOrdersEnv(t, driver, "CHF")
				t0 := time.Now().Add(-10 * 24 * time.Hour)
				cust := `"customer":{"id":"c-1","email":"c1@example.org"}`
				e.send(t, careful,
					step("order.placed", t0, `{`+cust+`,"order":{"id":"o-1","currency":"EUR","total":"59.80"}}`),
					step("order.placed", t0, `{`+cust+`,"order":{"id":"o-2","total":"20.00"}}`),
					// Refunds without a currency, as Shopify's refunds/create may send them.
					step("refund.issued", t0.Add(24*time.Hour), `{"customer":{"id":"c-1"},"order":{"id":"o-1"},"refund":{"id":"f-1","amount":"14.95"}}`),
					step("refund.issued", t0.Add(24*time.Hour), `{"customer":{"id":"c-1"},"order":{"id":"o-2"},"refund":{"id":"f-2","amount":"5.00"}}`),
					step("refund.issued", t0.Add(25*time.Hour), `{"customer":{"id":"c-1"},"order":{"id":"o-1"},"refund":{"id":"f-3","amount":"1.00","currency":"USD"}}`),
				)
				_, evs, _ := e.customer(t, "c-1")
				want := map[string]string{"f-1": "EUR", "f-2": "CHF", "f-3": "USD"}
				n := 0
				for i := range evs {
					ev, err := evs[i].Event()
					if err != nil {
						t.Fatal(err)
					}
					if r := ev.Data.Refund; r != nil {
						n++
						if r.Currency != want[r.ID] {
							t.Errorf("refund %s: currency %q, want %q", r.ID, r.Currency, want[r.ID])
						}
					}
				}
				if n != 3 {
					t.Fatalf("%d refunds recorded, want 3", n)
				}
			})
		}
	})
}

// TestPlanner_TestOrders: a test order's events plan nothing and leave the
// profile alone, also when the flag arrives after a step that had planned.
func TestPlanner_TestOrders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		for _, careful := range []bool{false, true} {
			t.Run(fmt.Sprintf("careful=%v", careful), func(t *testing.T) {
				e := newOrdersEnv(t, driver, "EUR")
				t0 := time.Now().Add(-20 * 24 * time.Hour).Truncate(time.Second)
				cust := `"customer":{"id":"c-1","email":"c1@example.org"}`
				items := `"items":[{"sku":"BEAN-ESP-1KG","product_id":"p-1","name":"Espresso Milano","category":"beans","quantity":1,"unit_price":"30.00"}]`
				real := `"order":{"id":"o-1","currency":"EUR","total":"30.00",` + items + `}`
				test := `"order":{"id":"o-t","currency":"EUR","total":"30.00","test":true,` + items + `}`
				bare := `"order":{"id":"o-t"}` // later steps of the test order, without the flag
				e.send(t, careful,
					step("consent.granted", t0, `{`+cust+`,"consent":{"channel":"email"}}`),
					step("order.placed", t0.Add(time.Hour), `{`+cust+`,`+real+`}`),
					step("order.paid", t0.Add(2*time.Hour), `{`+cust+`,`+real+`}`),
					// The test order's delivery arrives before its flagged steps:
					// what it plans is withdrawn once they arrive.
					step("shipment.delivered", t0.Add(4*24*time.Hour), `{`+cust+`,`+bare+`,"shipment":{"id":"s-t"}}`),
					step("order.placed", t0.Add(24*time.Hour), `{`+cust+`,`+test+`}`),
					step("order.paid", t0.Add(25*time.Hour), `{`+cust+`,`+test+`}`),
					step("shipment.shipped", t0.Add(2*24*time.Hour), `{`+cust+`,`+bare+`,"shipment":{"id":"s-t"}}`),
				)
				prof, evs, acts := e.customer(t, "c-1")
				if len(evs) != 7 {
					t.Fatalf("%d events recorded, want all 7", len(evs))
				}
				if prof.OrderCount != 1 || prof.TotalSpentCents != 3000 || prof.LastOrderAt == nil || !prof.LastOrderAt.Equal(t0.Add(time.Hour)) {
					t.Fatalf("profile counts the test order: %d orders, %d cents, last %v", prof.OrderCount, prof.TotalSpentCents, prof.LastOrderAt)
				}
				real1 := 0
				for _, a := range acts {
					switch {
					case a.OrderRef == "o-t" && a.Status != models.ActionCancelled:
						t.Errorf("action for the test order: %s %s %s", a.RuleID, a.Type, a.Status)
					case a.OrderRef == "o-1":
						real1++
					}
				}
				if real1 == 0 {
					t.Fatal("the real order planned nothing: the rules did not run")
				}
				balance, err := e.st.PointsBalance(context.Background(), prof.CustomerID)
				if err != nil {
					t.Fatal(err)
				}
				if balance != 30 {
					t.Fatalf("points balance %d, want the real order's 30", balance)
				}
			})
		}
	})
}
