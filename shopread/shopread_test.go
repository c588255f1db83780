package shopread_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/shopify"
	"github.com/treue/treue/rules"
	"github.com/treue/treue/shopread"
	"github.com/treue/treue/webhooks/process"
)

// testRules award points on payment and ask for a review a week after a
// delivery: the two kinds of action history must and must not produce.
const testRules = `
defaults:
  timezone: UTC
  currency: EUR
  require_consent: false
  holdout_percent: 0
points:
  per_currency_unit: 1
rules:
  - id: points-award
    on: order.paid
    kind: service
    quiet_hours: none
    limit: {once_per: order}
    action:
      type: points_award
      params: {reason: purchase}
      compute:
        points: order.points
  - id: reorder
    on: order.paid
    when: {after: 30d}
    limit: {once_per: order}
    kind: marketing
    quiet_hours: none
    action:
      type: tag_customer
      params: {tag: reorder-due}
  - id: review-request
    on: shipment.delivered
    when: {after: 7d}
    limit: {once_per: order}
    kind: marketing
    quiet_hours: none
    action:
      type: review_request
`

type env struct {
	st     *store.Store
	proc   *process.Processor
	runner *shopread.Runner
	shop   *models.Shop
	fake   *fakeShopify
	reg    *prometheus.Registry
	now    time.Time
}

type tLog struct{ t testing.TB }

func (l tLog) Write(p []byte) (int, error) { l.t.Log(string(p)); return len(p), nil }

func setup(t testing.TB, driver string, withRules bool) *env {
	return setupRules(t, driver, map[bool]string{true: testRules}[withRules])
}

// setupRules is setup with the rules src (none when empty).
func setupRules(t testing.TB, driver, src string) *env {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, driver)
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	var tick atomic.Int64 // rows' updated_at must change for MySQL to count them
	clock := func() time.Time { return now.Add(time.Duration(tick.Add(1)) * time.Microsecond) }
	st.Now = clock
	shop := &models.Shop{Key: "sf", Platform: models.PlatformShopify, Source: "cli", ExternalID: "treue-test.myshopify.com",
		Secrets: models.ShopSecrets{Webhook: []string{"shpss_webhook"}, AccessToken: "shpat_test"}}
	if err := st.SaveShop(ctx, shop); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(tLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var planner process.Planner
	if src != "" {
		set, err := rules.Parse("rules.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		planner = &process.RulesPlanner{Rules: rules.NewHolder(set), Log: log, Now: clock, Options: journey.DefaultOptions}
	}
	proc := &process.Processor{Store: st, Receivers: map[models.Platform]plugin.Receiver{models.PlatformShopify: shopify.New()},
		Planner: planner, Log: log, Options: journey.DefaultOptions, BatchSize: 50, MaxAttempts: 5, Now: clock, OrderWait: -1}
	fake, srv := newFakeShopify(t)
	conn := &shopify.Connector{Client: srv.Client(), BaseURL: srv.URL, Now: clock}
	reg := prometheus.NewRegistry()
	runner := &shopread.Runner{Store: st, Recorder: proc, Log: log, Now: clock, Metrics: shopread.NewMetrics(reg),
		Readers: func(*models.Shop) (plugin.OrderReader, bool) { return conn, true },
		Sleep:   func(ctx context.Context, d time.Duration) error { return ctx.Err() }, Points: true}
	return &env{st: st, proc: proc, runner: runner, shop: shop, fake: fake, reg: reg, now: now}
}

// counts sums the shop's journeys up.
func (e *env) counts(t *testing.T) store.JourneyCounts {
	t.Helper()
	c, err := e.st.ShopJourneyCounts(context.Background(), e.shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// actions lists a customer's actions as "order type status", by order and type.
func (e *env) actions(t *testing.T, shopCustomerID string) []string {
	t.Helper()
	ctx := context.Background()
	prof, err := e.st.CustomerByIdentity(ctx, e.shop.ID, models.IdentityID, shopCustomerID)
	if err != nil {
		t.Fatal(err)
	}
	acts, err := e.st.CustomerActions(ctx, prof.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range acts {
		out = append(out, a.OrderRef+" "+string(a.Type)+" "+string(a.Status))
	}
	slices.Sort(out)
	return out
}

// webhook delivers an order as Shopify's webhook for topic would, through
// the inbox and the processor.
func (e *env) webhook(t *testing.T, topic, id string, order map[string]any) {
	t.Helper()
	ctx := context.Background()
	body, err := json.Marshal(order)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("X-Shopify-Topic", topic)
	h.Set("X-Shopify-Webhook-Id", id)
	h.Set("X-Shopify-Triggered-At", e.now.Format(time.RFC3339))
	it := &models.Delivery{ShopID: e.shop.ID, Platform: string(models.PlatformShopify), DeliveryID: id, Topic: topic,
		Headers: store.EncodeHeaders(h), Body: body, ReceivedAt: e.now, NextAttemptAt: e.now, Status: store.InboxPending}
	if _, err := e.st.InsertInbox(ctx, it); err != nil {
		t.Fatal(err)
	}
	if _, err := e.proc.ProcessBatch(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := e.st.InboxByDelivery(ctx, e.shop.ID, id)
	if err != nil || got.Status != store.InboxDone {
		t.Fatalf("webhook %s was not processed: %+v, %v", id, got, err)
	}
}

// TestImport_ResumeExactlyOnce imports 2,000 orders, 100 pages of 20,
// through a fake Shopify that answers one page with 429 and two with 500
// and 502, cancels the import halfway (as Ctrl-C or a kill would), resumes
// it, and finds every order exactly once.
func TestImport_ResumeExactlyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		e := setup(t, driver, false)
		// Pages of 20, so that the injected failures (the 7th call of the
		// first run, the 60th and 61st of the resumed one) fall on pages.
		e.runner.PageSize = 20
		const n = 2000
		start := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
		orders := make([]map[string]any, n)
		for i := range orders {
			id := int64(i + 1)
			orders[i] = shopifyOrder(id, id%500, start.Add(time.Duration(i)*3*time.Hour), i%3 != 0, i%5 == 0)
		}
		e.fake.set(orders)
		e.fake.fail[7] = http.StatusTooManyRequests
		e.fake.fail[60] = http.StatusInternalServerError
		e.fake.fail[61] = http.StatusBadGateway
		since := start.Add(-24 * time.Hour)

		cut, cancel := context.WithCancel(ctx)
		_, err := e.runner.Import(cut, e.shop, since, false, func(p shopread.Progress) {
			if p.Orders >= n/2 {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("first run: want context.Canceled, got %v", err)
		}
		half := e.counts(t).Orders
		if half < n/2 || half >= n {
			t.Fatalf("after the cut: %d orders recorded, want about half", half)
		}
		st, err := e.st.SyncState(ctx, e.shop.ID, store.SyncImport)
		if err != nil {
			t.Fatal(err)
		}
		if st.Done || st.PageCursor == "" || st.Orders != half || st.LeaseOwner != nil {
			t.Fatalf("after the cut: state %+v, want a cursor, %d orders, no lease", st, half)
		}

		var last shopread.Progress
		p, err := e.runner.Import(ctx, e.shop, since, false, func(p shopread.Progress) { last = p })
		if err != nil {
			t.Fatal(err)
		}
		if !p.Done || p.Orders != n || last != p || p.Total != n {
			t.Fatalf("resumed: progress %+v (last %+v), want %d orders, done", p, last, n)
		}
		e.fake.mu.Lock()
		calls := e.fake.calls
		e.fake.mu.Unlock()
		if calls < 61 {
			t.Fatalf("%d page requests: the injected failures of calls 60 and 61 were never answered", calls)
		}
		c := e.counts(t)
		if got := c.ByType[string(models.OrderPlaced)]; got != n {
			t.Fatalf("order.placed events: %d, want %d", got, n)
		}
		if c.Orders != n {
			t.Fatalf("orders: %d, want %d", c.Orders, n)
		}
		wantEvents := int64(0)
		for i := 0; i < n; i++ {
			wantEvents++ // placed
			if i%3 != 0 {
				wantEvents++
			}
			if i%5 == 0 {
				wantEvents += 2 // shipped, delivered
			}
		}
		if c.Events != wantEvents {
			t.Fatalf("events: %d, want %d", c.Events, wantEvents)
		}
		if c.Customers != 500 {
			t.Fatalf("customers: %d, want 500", c.Customers)
		}
		if got := testutil.ToFloat64(e.runner.Metrics.Retries.WithLabelValues("sf")); got != 3 {
			t.Fatalf("retries: %v, want 3 (one 429, one 500, one 502)", got)
		}
		// Running it again reads everything and adds nothing.
		p, err = e.runner.Import(ctx, e.shop, since, false, nil)
		if err != nil || p.Events != 0 || p.Orders != n {
			t.Fatalf("again: %+v, %v; want %d orders and no new events", p, err, n)
		}
	})
}

// TestImport_HistoryPlansNothing imports a 2019 delivery, an order paid
// 20 days ago and an order delivered yesterday: history builds the profile,
// books its points without sending anything and plans only what is still
// ahead (the reorder reminders due next month, not those due in 2019 or
// the 2019 review request); the recent delivery plans its review request as
// its webhook would. Webhooks arriving for the imported orders afterwards
// change nothing.
func TestImport_HistoryPlansNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		e := setup(t, driver, true)
		old := shopifyOrder(1, 7, time.Date(2019, 5, 3, 10, 0, 0, 0, time.UTC), true, true)
		recent := shopifyOrder(2, 7, e.now.Add(-96*time.Hour), true, true) // delivered 24 h ago
		month := shopifyOrder(3, 7, e.now.Add(-20*24*time.Hour), true, false)
		e.fake.set([]map[string]any{old, recent, month})
		p, err := e.runner.Import(ctx, e.shop, time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.Orders != 3 || p.Events != 10 {
			t.Fatalf("progress %+v, want 3 orders and 10 events", p)
		}
		want := []string{
			"1 points_award suppressed",  // booked, never sent
			"2 points_award suppressed",  // paid four days ago: history too
			"2 review_request scheduled", // delivered yesterday: inside the window
			"2 tag_customer scheduled",   // due in 26 days
			"3 points_award suppressed",
			"3 tag_customer scheduled", // due in 10 days
		}
		if got := e.actions(t, "500007"); !slices.Equal(got, want) {
			t.Fatalf("actions %q, want %q", got, want)
		}
		prof, err := e.st.CustomerByIdentity(ctx, e.shop.ID, models.IdentityID, "500007")
		if err != nil {
			t.Fatal(err)
		}
		bal, err := e.st.PointsBalance(ctx, prof.CustomerID)
		if err != nil || bal != 177 {
			t.Fatalf("points %d, %v; want 3 × 59", bal, err)
		}
		if prof.OrderCount != 3 {
			t.Fatalf("profile counts %d orders, want 3", prof.OrderCount)
		}
		// The webhooks for the imported orders change nothing.
		before := e.counts(t)
		e.webhook(t, "orders/create", "wh-1", old)
		e.webhook(t, "orders/paid", "wh-2", recent)
		e.webhook(t, "orders/fulfilled", "wh-3", recent)
		if after := e.counts(t); after.Events != before.Events {
			t.Fatalf("events after the webhooks: %d, want %d", after.Events, before.Events)
		}
		if got := e.actions(t, "500007"); !slices.Equal(got, want) {
			t.Fatalf("actions after the webhooks %q, want %q", got, want)
		}
	})
}

// TestReconcile_FindsMissedWebhook delivers an order's creation by
// webhook, loses the webhook of its fulfillment, and finds the fulfillment
// with one reconciliation pass, planned like the webhook would have, and
// counted as recovered; a second pass within the interval does not run.
func TestReconcile_FindsMissedWebhook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		e := setup(t, driver, true)
		placed := e.now.Add(-30 * time.Hour)
		o := shopifyOrder(42, 9, placed, true, false)
		e.webhook(t, "orders/create", "wh-create", o)
		e.webhook(t, "orders/paid", "wh-paid", o)
		if got := e.counts(t).Events; got != 2 {
			t.Fatalf("events after the webhooks: %d, want 2", got)
		}
		// Shipped and delivered since; those webhooks never came.
		shipped := shopifyOrder(42, 9, placed, true, true)
		shipped["fulfillments"].([]any)[0].(map[string]any)["created_at"] = placed.Add(2 * time.Hour).Format(time.RFC3339)
		shipped["fulfillments"].([]any)[0].(map[string]any)["updated_at"] = e.now.Add(-2 * time.Hour).Format(time.RFC3339)
		shipped["updated_at"] = e.now.Add(-2 * time.Hour).Format(time.RFC3339)
		older := shopifyOrder(41, 8, e.now.Add(-400*24*time.Hour), true, false) // outside the lookback
		e.fake.set([]map[string]any{older, shipped})

		p, ran, err := e.runner.Reconcile(ctx, e.shop, 72*time.Hour, time.Hour)
		if err != nil || !ran {
			t.Fatalf("reconcile: ran %v, %v", ran, err)
		}
		if p.Orders != 1 || p.Events != 2 {
			t.Fatalf("progress %+v, want 1 order and 2 recovered events", p)
		}
		if got := testutil.ToFloat64(e.runner.Metrics.Recovered.WithLabelValues("sf")); got != 2 {
			t.Fatalf("recovered metric %v, want 2", got)
		}
		if got, want := e.actions(t, "500009"), []string{"42 points_award scheduled", "42 review_request scheduled", "42 tag_customer scheduled"}; !slices.Equal(got, want) {
			t.Fatalf("actions %q, want %q", got, want)
		}
		if got := e.counts(t).Orders; got != 1 {
			t.Fatalf("orders %d: one outside the lookback was read", got)
		}
		if _, ran, err := e.runner.Reconcile(ctx, e.shop, 72*time.Hour, time.Hour); err != nil || ran {
			t.Fatalf("second pass within the interval: ran %v, %v", ran, err)
		}
		// Another replica cannot take a running pass's lease.
		other := *e.runner
		other.Owner = "other"
		if _, err := e.st.AcquireSync(ctx, e.shop.ID, store.SyncReconcile, "first", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, ran, err := other.Reconcile(ctx, e.shop, 72*time.Hour, 0); err != nil || ran {
			t.Fatalf("while leased elsewhere: ran %v, %v", ran, err)
		}
		if got := e.counts(t).Events; got != 4 {
			t.Fatalf("events: %d, want 4", got)
		}
	})
}

// TestSchedule_OnePassPerInterval runs the reconciliation schedule of two
// replicas over the same shop: the shop is read once per interval, and
// not at all where its interval is 0.
func TestSchedule_OnePassPerInterval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		e := setup(t, driver, false)
		e.fake.set([]map[string]any{shopifyOrder(1, 1, e.now.Add(-time.Hour), true, false)})
		replica := func(owner string, every time.Duration) *shopread.Schedule {
			r := *e.runner
			r.Owner = owner
			return &shopread.Schedule{Runner: &r, Shops: e.st.ListShops, Lookback: 72 * time.Hour,
				Every: func(string) time.Duration { return every }, Tick: time.Hour}
		}
		off := replica("off", 0)
		go off.Run(ctx)
		a, b := replica("a", time.Hour), replica("b", time.Hour)
		done := make(chan struct{})
		go func() { a.Run(ctx); close(done) }()
		go b.Run(ctx)
		deadline := time.Now().Add(20 * time.Second)
		for testutil.ToFloat64(e.runner.Metrics.Passes.WithLabelValues("sf", "ok")) < 1 {
			if time.Now().After(deadline) {
				t.Fatal("no reconcile pass ran")
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // the other replica's first look
		if got := testutil.ToFloat64(e.runner.Metrics.Passes.WithLabelValues("sf", "ok")); got != 1 {
			t.Fatalf("passes: %v, want 1 for two replicas within one interval", got)
		}
		e.fake.mu.Lock()
		calls := e.fake.calls
		e.fake.mu.Unlock()
		if calls != 1 {
			t.Fatalf("orders.json requests: %d, want 1", calls)
		}
		cancel()
		<-done
	})
}
