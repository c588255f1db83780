// Package shopread reads a shop's orders from its own API into the
// customers' journeys: the history import on installation (treue import)
// and the reconciliation that finds the steps whose webhooks were lost
// (reconcile.interval in serve). Both run the platform's plugin.OrderReader
// page by page and record each page, with the read's cursor, in one
// transaction, so that an interrupted read resumes where it stopped and
// nothing is counted twice.
package shopread

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/webhooks/process"
)

// Recorder records a page of orders (process.Processor).
type Recorder interface {
	RecordAPI(ctx context.Context, page process.APIPage) (process.APIResult, error)
}

// Readers finds the order reader of a shop; false when its platform has no
// API Treue can read (Standard Webhooks shops).
type Readers func(shop *models.Shop) (plugin.OrderReader, bool)

// Runner runs imports and reconciliation passes.
type Runner struct {
	Store    *store.Store
	Recorder Recorder
	Readers  Readers
	Log      *slog.Logger
	// Owner names this process in leases; empty means a random one.
	Owner string
	// Lease is how long a read holds its shop's lease without progress
	// before another replica may take over; 0 means two minutes.
	Lease time.Duration
	// Window is how recent an event read from the API must be to plan
	// actions as its webhook would (default 48 h); older ones are history.
	Window time.Duration
	// Points books the points of imported history (as the rules award them).
	Points bool
	// PageSize is passed to the readers; 0 is their default.
	PageSize int
	// MaxRetries bounds the tries of one page on transient failures (429,
	// 5xx, timeouts); 0 means 8. The cursor stays where it was, so a read
	// that gives up resumes there.
	MaxRetries int
	Now        func() time.Time
	// Sleep waits d or until ctx ends; nil means a timer.
	Sleep   func(ctx context.Context, d time.Duration) error
	Metrics *Metrics
}

// Progress is where a read stands.
type Progress struct {
	Orders int64 // orders read
	Events int64 // journey steps that were new
	Total  int64 // orders the read has in all, -1 when unknown
	Done   bool
}

// ErrNoAPI says a shop's platform has no API to read orders from.
var ErrNoAPI = errors.New("the shop's platform has no API to read orders from (Standard Webhooks shops push their events; send the history as Standard Webhooks instead)")

func (r *Runner) owner() string {
	if r.Owner == "" {
		r.Owner = uuid.NewString()
	}
	return r.Owner
}

func (r *Runner) lease() time.Duration {
	if r.Lease <= 0 {
		return 2 * time.Minute
	}
	return r.Lease
}

func (r *Runner) window() time.Duration {
	if r.Window <= 0 {
		return 48 * time.Hour
	}
	return r.Window
}

func (r *Runner) sleep(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Import reads the orders created or changed since since into the shop's
// journeys. An import of the same since that was interrupted resumes at its
// stored cursor; another since starts afresh. Events older than the window
// plan nothing that would be due in the past. With dryRun the orders are read and counted, nothing is
// written. progress, when set, is told after every page.
func (r *Runner) Import(ctx context.Context, shop *models.Shop, since time.Time, dryRun bool, progress func(Progress)) (Progress, error) {
	rd, ok := r.Readers(shop)
	if !ok {
		return Progress{}, ErrNoAPI
	}
	since = since.UTC()
	if dryRun {
		return r.dryRun(ctx, rd, shop, since, progress)
	}
	st, err := r.Store.AcquireSync(ctx, shop.ID, store.SyncImport, r.owner(), r.lease())
	if err != nil {
		return Progress{}, fmt.Errorf("import %s: %w", shop.Key, err)
	}
	defer r.release(shop, store.SyncImport)
	resume := !st.Done && st.FromAt != nil && st.FromAt.Equal(since) && st.PageCursor != ""
	p := Progress{Total: -1}
	cursor := ""
	if resume {
		p = Progress{Orders: st.Orders, Events: st.Events, Total: st.Total}
		cursor = st.PageCursor
		r.Log.InfoContext(ctx, "import resumed", "shop", shop.Key, "orders", st.Orders)
	}
	return r.run(ctx, rd, shop, store.SyncImport, since, cursor, !resume, p, progress)
}

// Reconcile runs one pass over the orders changed in the last lookback
// unless another replica holds the shop's lease or the last pass finished
// less than interval ago; ran says whether it did. Steps it records are
// ones no webhook had delivered: they are counted per shop in
// treue_reconcile_recovered_events_total.
func (r *Runner) Reconcile(ctx context.Context, shop *models.Shop, lookback, interval time.Duration) (p Progress, ran bool, err error) {
	rd, ok := r.Readers(shop)
	if !ok {
		return Progress{}, false, ErrNoAPI
	}
	st, err := r.Store.AcquireSync(ctx, shop.ID, store.SyncReconcile, r.owner(), r.lease())
	if errors.Is(err, store.ErrLeaseHeld) {
		return Progress{}, false, nil
	}
	if err != nil {
		return Progress{}, false, fmt.Errorf("reconcile %s: %w", shop.Key, err)
	}
	defer r.release(shop, store.SyncReconcile)
	now := r.now()
	if st.Done && st.FinishedAt != nil && now.Sub(*st.FinishedAt) < interval {
		return Progress{}, false, nil
	}
	from, cursor, restart := now.Add(-lookback), "", true
	if !st.Done && st.FromAt != nil && st.PageCursor != "" {
		from, cursor, restart = *st.FromAt, st.PageCursor, false // a pass that was cut off
	}
	p, err = r.run(ctx, rd, shop, store.SyncReconcile, from, cursor, restart, Progress{Total: -1}, nil)
	if r.Metrics != nil {
		outcome := "ok"
		if err != nil {
			outcome = "failed"
		}
		r.Metrics.Passes.WithLabelValues(shop.Key, outcome).Inc()
	}
	return p, true, err
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

func (r *Runner) release(shop *models.Shop, kind string) {
	// The lease is given up even when the read's context was cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Store.ReleaseSync(ctx, shop.ID, kind, r.owner()); err != nil {
		r.Log.Warn("sync lease not released; it expires", "shop", shop.Key, "kind", kind, "err", err)
	}
}

// run reads and records pages until the last one.
func (r *Runner) run(ctx context.Context, rd plugin.OrderReader, shop *models.Shop, kind string, from time.Time, cursor string, restart bool, p Progress, progress func(Progress)) (Progress, error) {
	hist := process.History{PlanFrom: r.now().Add(-r.window()), Points: r.Points}
	for {
		if _, err := r.Store.AcquireSync(ctx, shop.ID, kind, r.owner(), r.lease()); err != nil {
			return p, fmt.Errorf("%s %s: %w", kind, shop.Key, err)
		}
		page, err := r.read(ctx, rd, shop, kind, plugin.OrderQuery{From: from, Cursor: cursor, PageSize: r.PageSize})
		if err != nil {
			return p, fmt.Errorf("%s %s: %w", kind, shop.Key, err)
		}
		events := 0
		for _, o := range page.Orders {
			events += len(o.Events)
		}
		first := restart
		res, err := r.Recorder.RecordAPI(ctx, process.APIPage{Shop: shop, Orders: page.Orders, History: hist,
			Commit: func(ctx context.Context, tx *store.Store, inserted int) error {
				return tx.SaveSync(ctx, shop.ID, kind, r.owner(), store.SyncProgress{
					Restart: first, FromAt: from, PageCursor: page.Next, Orders: int64(len(page.Orders)),
					Events: int64(inserted), Total: int64(page.Total), Done: page.Next == "",
				}, r.lease())
			}})
		if err != nil {
			return p, fmt.Errorf("%s %s: record: %w", kind, shop.Key, err)
		}
		restart = false
		p.Orders += int64(len(page.Orders))
		p.Events += int64(res.Inserted)
		if page.Total >= 0 {
			p.Total = int64(page.Total)
		}
		if r.Metrics != nil {
			r.Metrics.Orders.WithLabelValues(shop.Key, kind).Add(float64(len(page.Orders)))
			if kind == store.SyncReconcile {
				r.Metrics.Recovered.WithLabelValues(shop.Key).Add(float64(res.Inserted))
			}
		}
		if kind == store.SyncReconcile && res.Inserted > 0 {
			r.Log.WarnContext(ctx, "reconciliation recorded steps no webhook had delivered", "shop", shop.Key, "events", res.Inserted)
		}
		cursor = page.Next
		p.Done = cursor == ""
		if progress != nil {
			progress(p)
		}
		if p.Done {
			return p, nil
		}
		if page.Wait > 0 {
			if err := r.sleep(ctx, page.Wait); err != nil {
				return p, err
			}
		}
	}
}

// dryRun reads every page and counts, writing nothing.
func (r *Runner) dryRun(ctx context.Context, rd plugin.OrderReader, shop *models.Shop, since time.Time, progress func(Progress)) (Progress, error) {
	p := Progress{Total: -1}
	cursor := ""
	for {
		page, err := r.read(ctx, rd, shop, "", plugin.OrderQuery{From: since, Cursor: cursor, PageSize: r.PageSize})
		if err != nil {
			return p, fmt.Errorf("import %s (dry run): %w", shop.Key, err)
		}
		p.Orders += int64(len(page.Orders))
		for _, o := range page.Orders {
			p.Events += int64(len(o.Events))
		}
		if page.Total >= 0 {
			p.Total = int64(page.Total)
		}
		cursor = page.Next
		p.Done = cursor == ""
		if progress != nil {
			progress(p)
		}
		if p.Done {
			return p, nil
		}
		if page.Wait > 0 {
			if err := r.sleep(ctx, page.Wait); err != nil {
				return p, err
			}
		}
	}
}

// read fetches one page, trying again after transient failures: after the
// shop's Retry-After where it sent one (429, 503), else with exponential
// back-off and full jitter, capped at a minute. The lease of kind (none
// for "") is renewed after every wait, so that a shop that keeps a read
// waiting does not let another replica take it over.
func (r *Runner) read(ctx context.Context, rd plugin.OrderReader, shop *models.Shop, kind string, q plugin.OrderQuery) (plugin.OrderPage, error) {
	tries := r.MaxRetries
	if tries <= 0 {
		tries = 8
	}
	for attempt := 0; ; attempt++ {
		page, err := rd.ReadOrders(ctx, shop, q)
		if err == nil {
			return page, nil
		}
		var pe *plugin.Error
		if !errors.As(err, &pe) || pe.Kind != plugin.Transient || attempt+1 >= tries || ctx.Err() != nil {
			return page, err
		}
		wait := pe.RetryAfter
		if wait <= 0 {
			wait = time.Duration(rand.Int64N(int64(min(time.Minute, time.Second<<min(attempt, 6))) + 1))
		}
		if r.Metrics != nil {
			r.Metrics.Retries.WithLabelValues(shop.Key).Inc()
		}
		r.Log.InfoContext(ctx, "shop API busy or failing; trying the page again", "shop", shop.Key, "attempt", attempt+1,
			"status", pe.StatusCode, "wait", wait.String())
		if err := r.sleep(ctx, wait); err != nil {
			return page, err
		}
		if kind != "" {
			if _, err := r.Store.AcquireSync(ctx, shop.ID, kind, r.owner(), r.lease()); err != nil {
				return page, err
			}
		}
	}
}

// Metrics of API reads.
type Metrics struct {
	Orders    *prometheus.CounterVec
	Recovered *prometheus.CounterVec
	Passes    *prometheus.CounterVec
	Retries   *prometheus.CounterVec
}

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Orders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treue_api_orders_read_total", Help: "Orders read from shops' APIs, by shop and kind (import, reconcile).",
		}, []string{"shop", "kind"}),
		Recovered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treue_reconcile_recovered_events_total", Help: "Journey steps reconciliation found in a shop's API that no webhook had delivered: lost webhooks, per shop.",
		}, []string{"shop"}),
		Passes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treue_reconcile_passes_total", Help: "Reconciliation passes by shop and outcome (ok, failed).",
		}, []string{"shop", "outcome"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treue_api_read_retries_total", Help: "Pages of orders asked for again after a 429, 5xx or timeout, per shop.",
		}, []string{"shop"}),
	}
	reg.MustRegister(m.Orders, m.Recovered, m.Passes, m.Retries)
	return m
}
