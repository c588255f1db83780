package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/webhooks/dispatch"
)

// dispatchConnector is a hand-written fake: Fn answers, and every call is
// counted by idempotency key.
type dispatchConnector struct {
	Fn func(ctx context.Context, job plugin.Job) (plugin.Result, error)

	mu    sync.Mutex
	calls map[string]int
	jobs  []plugin.Job
	times []time.Time
}

var _ plugin.Connector = (*dispatchConnector)(nil)

func (c *dispatchConnector) Execute(ctx context.Context, job plugin.Job) (plugin.Result, error) {
	c.mu.Lock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[job.Action.IdempotencyKey]++
	c.jobs = append(c.jobs, job)
	c.times = append(c.times, time.Now())
	c.mu.Unlock()
	if c.Fn == nil {
		return plugin.Result{StatusCode: 200, Summary: "ok"}, nil
	}
	return c.Fn(ctx, job)
}

func (c *dispatchConnector) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.jobs)
}

func (c *dispatchConnector) lastJob() plugin.Job {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.jobs[len(c.jobs)-1]
}

// dispatchEnv is a migrated database with shops, one customer each.
type dispatchEnv struct {
	t      *testing.T
	driver string
	dsn    string
	st     *store.Store
	clock  *storetest.Clock // nil: real time
	cust   map[int64]int64
	seq    int
}

func newDispatchEnv(t *testing.T, driver string, fake bool) *dispatchEnv {
	t.Helper()
	e := &dispatchEnv{t: t, driver: driver, dsn: storetest.DSN(t, driver), cust: map[int64]int64{}}
	if fake {
		e.clock = storetest.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	}
	e.st = e.open()
	if _, err := e.st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

// open returns another store (its own pool) on the same database.
func (e *dispatchEnv) open() *store.Store {
	s := storetest.OpenDSN(e.t, e.driver, e.dsn)
	if e.clock != nil {
		s.Now = e.clock.Now
	}
	return s
}

func (e *dispatchEnv) now() time.Time {
	if e.clock != nil {
		return e.clock.Now()
	}
	return time.Now().UTC()
}

func (e *dispatchEnv) shop(key string, p models.Platform) *models.Shop {
	e.t.Helper()
	ctx := context.Background()
	sh := &models.Shop{Key: key, Platform: p, Source: "cli",
		Secrets: models.ShopSecrets{Webhook: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, AccessToken: "shpat_secret_token"}}
	if err := e.st.SaveShop(ctx, sh); err != nil {
		e.t.Fatal(err)
	}
	err := e.st.InTx(ctx, func(tx *store.Store) error {
		id, _, err := tx.ResolveCustomer(ctx, sh.ID, models.CustomerRef{ID: "c-" + key, Number: "n-" + key, Email: key + "@example.org"})
		e.cust[sh.ID] = id
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return sh
}

// action plans a scheduled action of shop, due a second ago.
func (e *dispatchEnv) action(sh *models.Shop, typ models.ActionType, params map[string]any) models.Action {
	e.t.Helper()
	e.seq++
	a := models.Action{ShopID: sh.ID, CustomerID: e.cust[sh.ID], Type: typ, Status: models.ActionScheduled,
		RuleID: "r", RulesVersion: "v1", DueAt: e.now().Add(-time.Second),
		IdempotencyKey: fmt.Sprintf("%s-%d", sh.Key, e.seq), Params: params}
	if ok, err := e.st.InsertAction(context.Background(), &a); err != nil || !ok {
		e.t.Fatalf("insert action: %v %v", ok, err)
	}
	return a
}

func (e *dispatchEnv) get(id int64) models.Action {
	e.t.Helper()
	a, err := e.st.ActionByID(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *dispatchEnv) attempts(id int64) []models.Attempt {
	e.t.Helper()
	atts, err := e.st.ActionAttempts(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return atts
}

// dispatcher returns a dispatcher on the env's clock with the breaker and
// rate limit off and a jitter of one half.
func (e *dispatchEnv) dispatcher(st *store.Store, owner string, conns map[string]plugin.Connector) *dispatch.Dispatcher {
	d := &dispatch.Dispatcher{
		Store: st, Connectors: conns, Log: slog.New(slog.DiscardHandler), Owner: owner,
		Rand: func() float64 { return 0.5 }, Workers: 4, BatchSize: 20, Lease: time.Minute, Poll: 10 * time.Millisecond,
		MaxAttempts: 5, Backoff: dispatch.Backoff{Base: time.Minute, Cap: time.Hour},
		Breaker: dispatch.BreakerConfig{Failures: -1}, RateLimit: dispatch.RateLimitConfig{Rate: -1},
	}
	if e.clock != nil {
		d.Now = e.clock.Now
	}
	return d
}

// dispatchCounter reads treue_actions_dispatched_total{outcome}.
func dispatchCounter(t *testing.T, reg *prometheus.Registry, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "treue_actions_dispatched_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no treue_actions_dispatched_total{outcome=%q}", outcome)
	return 0
}

func dispatchOnce(t *testing.T, d *dispatch.Dispatcher, want int) {
	t.Helper()
	n, err := d.DispatchOnce(context.Background())
	if err != nil || n != want {
		t.Fatalf("dispatched %d (%v), want %d", n, err, want)
	}
}

func TestDispatcher_Sent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		e := newDispatchEnv(t, driver, true)
		sh := e.shop("acme", models.PlatformShopware)
		conn := &dispatchConnector{Fn: func(ctx context.Context, job plugin.Job) (plugin.Result, error) {
			return plugin.Result{StatusCode: 201, Summary: "tagged", External: "tag-7"}, nil
		}}
		d := e.dispatcher(e.st, "A", map[string]plugin.Connector{models.ConnectorShopware: conn})
		reg := prometheus.NewRegistry()
		d.Metrics = dispatch.NewMetrics(reg)
		a := e.action(sh, models.ActionTagCustomer, map[string]any{"tag": "vip"})

		dispatchOnce(t, d, 1)
		got := e.get(a.ID)
		if got.Status != models.ActionSent || got.Attempts != 1 || got.SentAt == nil || !got.SentAt.Equal(e.now()) {
			t.Fatalf("action %+v, want sent", got)
		}
		job := conn.lastJob()
		if job.Action.IdempotencyKey != a.IdempotencyKey || job.Shop.ID != sh.ID || job.Customer.ShopCustomerID != "c-acme" ||
			job.Customer.Number != "n-acme" || job.Customer.Email != "acme@example.org" || job.Customer.Profile == nil {
			t.Fatalf("job %+v", job)
		}
		atts := e.attempts(a.ID)
		if len(atts) != 1 || atts[0].Outcome != store.AttemptOK || atts[0].StatusCode != 201 || atts[0].Summary != "tagged" || atts[0].AttemptNo != 1 {
			t.Fatalf("attempts %+v", atts)
		}
		if v := dispatchCounter(t, reg, "sent"); v != 1 {
			t.Fatalf("sent counter %v", v)
		}
		dispatchOnce(t, d, 0)
		if conn.total() != 1 {
			t.Fatalf("%d calls, want 1", conn.total())
		}
	})
}

func TestDispatcher_PointsCarryBalanceAndTier(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		e := newDispatchEnv(t, driver, true)
		sh := e.shop("acme", models.PlatformShopware)
		conn := &dispatchConnector{}
		d := e.dispatcher(e.st, "A", map[string]plugin.Connector{models.ConnectorShopware: conn})
		d.Tier = func(p int64) string {
			if p >= 100 {
				return "gold"
			}
			return "silver"
		}
		a := e.action(sh, models.ActionPointsAward, map[string]any{"points": 70})
		for i, delta := range []int64{50, 70} {
			if err := e.st.AddPoints(ctx, sh.ID, a.CustomerID, a.ID+int64(i)*1000, delta, "r"); err != nil {
				t.Fatal(err)
			}
		}
		dispatchOnce(t, d, 1)
		p := conn.lastJob().Action.Params
		if p["balance"] != int64(120) || p["tier"] != "gold" || fmt.Sprint(p["points"]) != "70" {
			t.Fatalf("params %v", p)
		}
	})
}

func TestDispatcher_TransientThenSent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		e := newDispatchEnv(t, driver, true)
		sh := e.shop("acme", models.PlatformShopware)
		fail := true
		conn := &dispatchConnector{Fn: func(ctx context.Context, job plugin.Job) (plugin.Result, error) {
			if fail {
				return plugin.Result{}, &plugin.Error{Kind: plugin.Transient, StatusCode: 503, Err: errors.New("upstream down")}
			}
			return plugin.Result{StatusCode: 200}, nil
		}}
		d := e.dispatcher(e.st, "A", map[string]plugin.Connector{models.ConnectorShopware: conn})
		a := e.action(sh, models.ActionTagCustomer, nil)

		t0 := e.now()
		dispatchOnce(t, d, 1)
		got := e.get(a.ID)
		if got.Status != models.ActionRetrying || got.Attempts != 1 || !strings.Contains(got.Reason, "status 503: upstream down") {
			t.Fatalf("after a 503: %+v", got)
		}
		// The first wait is half (the injected jitter) of Base.
		e.clock.Add(29 * time.Second)
		dispatchOnce(t, d, 0)
		e.clock.Add(time.Second)
		fail = false
		dispatchOnce(t, d, 1)
		got = e.get(a.ID)
		if got.Status != models.ActionSent || got.Attempts != 2 || got.Reason != "" || !got.SentAt.Equal(t0.Add(30*time.Second)) {
			t.Fatalf("after the retry: %+v", got)
		}
		atts := e.attempts(a.ID)
		if len(atts) != 2 || atts[0].Outcome != store.AttemptTransient || atts[0].StatusCode != 503 || atts[1].Outcome != store.AttemptOK {
			t.Fatalf("attempts %+v", atts)
		}
	})
}

func TestDispatcher_RetryAfter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		e := newDispatchEnv(t, driver, true)
		sh := e.shop("acme", models.PlatformShopware)
		conn := &dispatchConnector{Fn: func(ctx context.Context, job plugin.Job) (plugin.Result, error) {
			return plugin.Result{}, &plugin.Error{Kind: plugin.Transient, StatusCode: 429, RetryAfter: 2 * time.Hour, Err: errors.New("slow down")}
		}}
		d := e.dispatcher(e.st, "A", map[string]plugin.Connector{models.ConnectorShopware: conn})
		e.action(sh, models.ActionTagCustomer, nil)
		dispatchOnce(t, d, 1)
		e.clock.Add(2*time.Hour - time.Second)
		dispatchOnce(t, d, 0)
		e.clock.Add(time.Second)
		dispatchOnce(t, d, 1)
	})
}

func TestDispatcher_Permanent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		e := newDispatchEnv(t, driver, true)
		sh := e.shop("acme", models.PlatformShopware)
		permanent := true
		conn := &dispatchConnector{Fn: func(ctx context.Context, job plugin.Job) (plugin.Result, error) {
			if permanent {
				// A connector echoing a credential must not get it stored.
				return plugin.Result{}, &plugin.Error{Kind: plugin.Permanent, StatusCode: 422, Err: errors.New("unknown tag (token shpat_secret_token)")}
			}
			return plugin.Result{StatusCode: 200}, nil
		}}
		d := e.dispatcher(e.st, "A", map[string]plugin.Connector{models.ConnectorShopware: conn})
		a := e.action(sh, models.ActionTagCustomer, nil)
		dispatchOnce(t, d, 1)
		got := e.get(a.ID)
		if got.Status != models.ActionDead || got.Attempts != 1 || !strings.Contains(got.Reason, "permanent: status 422: unknown tag") {
			t.Fatalf("after a 422: %+v", got)
		}
		if strings.Contains(got.Reason, "shpat_secret_token") || strings.Contains(e.attempts(a.ID)[0].Summary, "shpat_secret_token") {
			t.Fatalf("a credential was stored: %q", got.Reason)
		}
		dead, err := e.st.ListActions(ctx, sh.ID, string(models.ActionDead), 10, 0)
		if err != nil || len(dead) != 1 || dead[0].ID != a.ID {
			t.Fatalf("dead list %v %v", dead, err)
		}
		// Support fixes the cause and retries it.
		permanent = false
		if ok, err := e.st.RetryDeadAction(ctx, a.ID); err != nil || !ok {
			t.Fatalf("retry dead: %v %v", ok, err)
		}
		dispatchOnce(t, d, 1)
		if got := e.get(a.ID); got.Status != models.ActionSent || got.Attempts != 1 {
			t.Fatalf("after retrying the dead action: %+v", got)
		}
	})
}

func TestDispatcher_MaxAttempts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		e := newDispatchEnv(t, driver, true)
		sh := e.shop("acme", models.PlatformShopware)
		// A plain error (not *plugin.Error) counts as transient.
		conn := &dispatchConnector{Fn: func(ctx context.Context, job plugin.Job) (plugin.Result, error) {
			return plugin.Result{}, errors.New("connection reset")
		}}
		d := e.dispatcher(e.st, "A", map[string]plugin.Connector{models.ConnectorShopware: conn})
		d.MaxAttempts = 3
		a := e.action(sh, models.ActionTagCustomer, nil)
		for i := range 3 {
			dispatchOnce(t, d, 1)
			if got := e.get(a.ID); i < 2 && got.Status != models.ActionRetrying {
				t.Fatalf("after attempt %d: %+v", i+1, got)
			}
			e.clock.Add(time.Hour)
		}
		got := e.get(a.ID)
		if got.Status != models.ActionDead || got.Attempts != 3 || !strings.Contains(got.Reason, "gave up after 3 attempts: transient: connection reset") {
			t.Fatalf("after 3 attempts: %+v", got)
		}
		dispatchOnce(t, d, 0)
		if conn.total() != 3 || len(e.attempts(a.ID)) != 3 {
			t.Fatalf("%d calls, want 3", conn.total())
		}
	})
}

func TestDispatcher_Routing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		e := newDispatchEnv(t, driver, true)
		sw := e.shop("sw", models.PlatformShopware)
		sf := e.shop("sf", models.PlatformShopify)
		conn, notify := &dispatchConnector{}, &dispatchConnector{}
		d := e.dispatcher(e.st, "A", map[string]plugin.Connector{models.ConnectorShopware: conn})
		orphan := e.action(sf, models.ActionTagCustomer, nil)
		viaNotify := e.action(sf, models.ActionReviewRequest, map[string]any{"channel": "notify"})
		notifyType := e.action(sw, models.ActionNotify, nil)
		direct := e.action(sw, models.ActionTagCustomer, nil)

		d.Notify = nil
		dispatchOnce(t, d, 4)
		if got := e.get(orphan.ID); got.Status != models.ActionDead || got.Reason != "no shopify connector; configure the shop's connector or notify" {
			t.Fatalf("no connector: %+v", got)
		}
		for _, id := range []int64{viaNotify.ID, notifyType.ID} {
			if got := e.get(id); got.Status != models.ActionDead || !strings.Contains(got.Reason, "notify") {
				t.Fatalf("notify unconfigured: %+v", got)
			}
		}
		if got := e.get(direct.ID); got.Status != models.ActionSent {
			t.Fatalf("direct: %+v", got)
		}

		d2 := e.dispatcher(e.st, "B", map[string]plugin.Connector{models.ConnectorShopware: conn})
		d2.Notify = notify
		for _, id := range []int64{viaNotify.ID, notifyType.ID} {
			if ok, err := e.st.RetryDeadAction(context.Background(), id); err != nil || !ok {
				t.Fatal(ok, err)
			}
		}
		dispatchOnce(t, d2, 2)
		if notify.total() != 2 || conn.total() != 1 {
			t.Fatalf("notify calls %d, connector calls %d", notify.total(), conn.total())
		}
	})
}

// TestDispatcher_Breaker: one shop's failures open its breaker while the
// other shop's actions still go; after the cool-down one trial decides.
func TestDispatcher_Breaker(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		e := newDispatchEnv(t, driver, true)
		bad := e.shop("bad", models.PlatformShopware)
		good := e.shop("good", models.PlatformShopify)
		failing := true
		badConn := &dispatchConnector{Fn: func(ctx context.Context, job plugin.Job) (plugin.Result, error) {
			if failing {
				return plugin.Result{}, &plugin.Error{Kind: plugin.Transient, StatusCode: 502, Err: errors.New("bad gateway")}
			}
			return plugin.Result{StatusCode: 200}, nil
		}}
		goodConn := &dispatchConnector{}
		d := e.dispatcher(e.st, "A", map[string]plugin.Connector{models.ConnectorShopware: badConn, models.ConnectorShopify: goodConn})
		d.Workers = 1 // one call at a time, in claim order
		d.Rand = func() float64 { return 0 }
		d.Breaker = dispatch.BreakerConfig{Failures: 2, Cooldown: time.Minute}
		var badIDs, goodIDs []int64
		for range 4 {
			badIDs = append(badIDs, e.action(bad, models.ActionTagCustomer, nil).ID)
			goodIDs = append(goodIDs, e.action(good, models.ActionTagCustomer, nil).ID)
		}
		status := func(ids []int64) (out []models.ActionStatus) {
			for _, id := range ids {
				out = append(out, e.get(id).Status)
			}
			return out
		}

		dispatchOnce(t, d, 8)
		if badConn.total() != 2 {
			t.Fatalf("%d calls into the failing shop, want 2 before the breaker opens", badConn.total())
		}
		want := []models.ActionStatus{models.ActionRetrying, models.ActionRetrying, models.ActionScheduled, models.ActionScheduled}
		if got := status(badIDs); !slices.Equal(got, want) {
			t.Fatalf("failing shop: %v, want %v", got, want)
		}
		if got := status(goodIDs); slices.ContainsFunc(got, func(s models.ActionStatus) bool { return s != models.ActionSent }) {
			t.Fatalf("healthy shop: %v, want all sent", got)
		}

		// Open: the failing shop's due retries are not even claimed.
		more := e.action(good, models.ActionTagCustomer, nil)
		dispatchOnce(t, d, 1)
		if badConn.total() != 2 || e.get(more.ID).Status != models.ActionSent {
			t.Fatal("the open breaker held back the wrong shop")
		}

		// Half-open after the cool-down: the trial fails, and it opens again.
		e.clock.Add(time.Minute)
		dispatchOnce(t, d, 4)
		if badConn.total() != 3 {
			t.Fatalf("%d calls, want exactly one trial", badConn.total())
		}
		dispatchOnce(t, d, 0)

		// The next trial succeeds and closes it: everything goes.
		e.clock.Add(time.Minute)
		failing = false
		dispatchOnce(t, d, 4)
		if got := status(badIDs); slices.ContainsFunc(got, func(s models.ActionStatus) bool { return s != models.ActionSent }) {
			t.Fatalf("after recovery: %v, want all sent", got)
		}
		if badConn.total() != 7 {
			t.Fatalf("%d calls, want 7", badConn.total())
		}
	})
}

// TestDispatcher_RateLimit checks the token bucket on real time: after the
// burst, calls into one shop are spaced by 1/rate.
func TestDispatcher_RateLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		e := newDispatchEnv(t, driver, false)
		sh := e.shop("acme", models.PlatformShopware)
		conn := &dispatchConnector{}
		d := e.dispatcher(e.st, "A", map[string]plugin.Connector{models.ConnectorShopware: conn})
		const rate, burst, n = 20, 3, 13
		d.RateLimit = dispatch.RateLimitConfig{Rate: rate, Burst: burst, MaxWait: 5 * time.Second}
		d.Workers = 8
		for range n {
			e.action(sh, models.ActionTagCustomer, nil)
		}
		start := time.Now()
		dispatchOnce(t, d, n)
		conn.mu.Lock()
		times := slices.Clone(conn.times)
		conn.mu.Unlock()
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		for k, at := range times {
			earliest := start.Add(time.Duration(max(k+1-burst, 0)) * time.Second / rate)
			if at.Before(earliest.Add(-5 * time.Millisecond)) {
				t.Fatalf("call %d at %v, before its token at %v", k, at.Sub(start), earliest.Sub(start))
			}
		}
		sent, err := e.st.ListActions(context.Background(), sh.ID, string(models.ActionSent), 100, 0)
		if err != nil || len(sent) != n {
			t.Fatalf("sent %d %v", len(sent), err)
		}

		t.Run("ReleasedWhenTheWaitIsTooLong", func(t *testing.T) {
			conn := &dispatchConnector{}
			d := e.dispatcher(e.st, "B", map[string]plugin.Connector{models.ConnectorShopware: conn})
			d.RateLimit = dispatch.RateLimitConfig{Rate: 1, Burst: 1, MaxWait: 50 * time.Millisecond}
			var ids []int64
			for range 3 {
				ids = append(ids, e.action(sh, models.ActionTagCustomer, nil).ID)
			}
			dispatchOnce(t, d, 3)
			if conn.total() != 1 {
				t.Fatalf("%d calls, want 1", conn.total())
			}
			var sent, waiting int
			for _, id := range ids {
				switch a := e.get(id); a.Status {
				case models.ActionSent:
					sent++
				case models.ActionScheduled:
					if a.Attempts == 0 {
						waiting++
					}
				}
			}
			if sent != 1 || waiting != 2 {
				t.Fatalf("sent %d, waiting %d", sent, waiting)
			}
			// They are due when their turn comes, not before.
			if n, err := d.DispatchOnce(context.Background()); err != nil || n != 0 {
				t.Fatalf("claimed %d (%v) before their turn", n, err)
			}
		})
	})
}

// TestDispatcher_LeaseLost: dispatcher A's call outlives its lease; B takes
// the action over and records it; A's late result does not overwrite B's.
func TestDispatcher_LeaseLost(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		e := newDispatchEnv(t, driver, true)
		sh := e.shop("acme", models.PlatformShopware)
		started, finish := make(chan struct{}), make(chan struct{})
		slow := &dispatchConnector{Fn: func(ctx context.Context, job plugin.Job) (plugin.Result, error) {
			close(started)
			<-finish
			return plugin.Result{StatusCode: 200, External: "from-A"}, nil
		}}
		fast := &dispatchConnector{Fn: func(ctx context.Context, job plugin.Job) (plugin.Result, error) {
			return plugin.Result{StatusCode: 200, External: "from-B"}, nil
		}}
		a := e.action(sh, models.ActionTagCustomer, nil)
		dA := e.dispatcher(e.st, "A", map[string]plugin.Connector{models.ConnectorShopware: slow})
		reg := prometheus.NewRegistry()
		dA.Metrics = dispatch.NewMetrics(reg)
		dB := e.dispatcher(e.open(), "B", map[string]plugin.Connector{models.ConnectorShopware: fast})
		done := make(chan error)
		go func() { _, err := dA.DispatchOnce(context.Background()); done <- err }()
		<-started
		dispatchOnce(t, dB, 0) // A's lease holds
		e.clock.Add(time.Minute + time.Second)
		dispatchOnce(t, dB, 1)
		close(finish)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		got := e.get(a.ID)
		if got.Status != models.ActionSent || got.Attempts != 2 {
			t.Fatalf("action %+v", got)
		}
		if v := dispatchCounter(t, reg, "lease_lost"); v != 1 {
			t.Fatalf("lease_lost counter %v, want 1", v)
		}
		// Both calls carried the same idempotency key, so the shop applies it once.
		if slow.calls[a.IdempotencyKey] != 1 || fast.calls[a.IdempotencyKey] != 1 {
			t.Fatalf("calls %v %v", slow.calls, fast.calls)
		}
	})
}

// TestDispatcher_ExactlyOnce runs two dispatchers, each with its own pool
// and several workers, on one database until 300 due actions are sent: each
// is delivered exactly once.
func TestDispatcher_ExactlyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		e := newDispatchEnv(t, driver, false)
		shops := []*models.Shop{e.shop("s1", models.PlatformShopware), e.shop("s2", models.PlatformShopware), e.shop("s3", models.PlatformShopware)}
		const n = 300
		keys := map[string]bool{}
		for i := range n {
			keys[e.action(shops[i%3], models.ActionTagCustomer, nil).IdempotencyKey] = true
		}
		// One fake shop API, counting every call by idempotency key, behind
		// each process's own connector.
		shopAPI := &dispatchConnector{Fn: func(ctx context.Context, job plugin.Job) (plugin.Result, error) {
			time.Sleep(time.Duration(job.Action.ID%3) * time.Millisecond)
			return plugin.Result{StatusCode: 200}, nil
		}}
		conn := shopAPI
		perProc := []*dispatchConnector{{Fn: shopAPI.Execute}, {Fn: shopAPI.Execute}}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, owner := range []string{"proc-A", "proc-B"} {
			st := e.st
			if i == 1 {
				st = e.open()
			}
			d := e.dispatcher(st, owner, map[string]plugin.Connector{models.ConnectorShopware: perProc[i]})
			d.Workers, d.BatchSize = 6, 5
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = d.Run(ctx) }()
		}
		deadline := time.Now().Add(60 * time.Second)
		for conn.total() < n && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // let a duplicate show up, were there one
		cancel()
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if len(conn.calls) != n {
			t.Fatalf("%d distinct actions called, want %d", len(conn.calls), n)
		}
		for k, c := range conn.calls {
			if c != 1 || !keys[k] {
				t.Fatalf("action %s called %d times", k, c)
			}
		}
		if perProc[0].total() == 0 || perProc[1].total() == 0 {
			t.Fatalf("one process did all the work: %d and %d", perProc[0].total(), perProc[1].total())
		}
		sent, err := e.st.ListActions(context.Background(), 0, string(models.ActionSent), 1000, 0)
		if err != nil || len(sent) != n {
			t.Fatalf("sent %d (%v), want %d", len(sent), err, n)
		}
	})
}

// TestDispatcher_Shutdown: stopping lets the call in flight finish and
// hands the claims that were waiting for their turn back, unattempted.
func TestDispatcher_Shutdown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		e := newDispatchEnv(t, driver, false)
		sh := e.shop("acme", models.PlatformShopware)
		started, finish := make(chan struct{}), make(chan struct{})
		var once sync.Once
		conn := &dispatchConnector{Fn: func(ctx context.Context, job plugin.Job) (plugin.Result, error) {
			once.Do(func() { close(started) })
			<-finish
			return plugin.Result{StatusCode: 200}, nil
		}}
		d := e.dispatcher(e.st, "A", map[string]plugin.Connector{models.ConnectorShopware: conn})
		d.RateLimit = dispatch.RateLimitConfig{Rate: 0.5, Burst: 1, MaxWait: time.Minute}
		d.ShutdownTimeout = 10 * time.Second
		var ids []int64
		for range 3 {
			ids = append(ids, e.action(sh, models.ActionTagCustomer, nil).ID)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- d.Run(ctx) }()
		<-started
		time.Sleep(50 * time.Millisecond) // the others are waiting for tokens
		cancel()
		time.AfterFunc(100*time.Millisecond, func() { close(finish) })
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return")
		}
		var sent, released int
		for _, id := range ids {
			a := e.get(id)
			switch {
			case a.Status == models.ActionSent && a.Attempts == 1:
				sent++
			case a.Status == models.ActionScheduled && a.Attempts == 0:
				released++
			default:
				t.Fatalf("action %+v", a)
			}
		}
		if sent != 1 || released != 2 || conn.total() != 1 {
			t.Fatalf("sent %d, released %d, calls %d", sent, released, conn.total())
		}
		// Nothing is left leased.
		if n, err := e.st.ReleaseActions(context.Background(), "A"); err != nil || n != 0 {
			t.Fatalf("left leased: %d %v", n, err)
		}
	})
}
