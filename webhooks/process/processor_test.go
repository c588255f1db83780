package process_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/standard"
	"github.com/treue/treue/rules"
	"github.com/treue/treue/webhooks/process"
)

// TestProcessor_BatchMatchesCareful processes the same deliveries three
// times: in batches that load their customers' state once (the default), one
// delivery at a time reading everything from the store, and with four
// processors at once (as four replicas would, small batches, so that they
// share customers and deadlock now and then). Profiles and actions must come
// out the same, with steps out of order and delivered twice.
func TestProcessor_BatchMatchesCareful(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		set := exampleSet(t)
		clock := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
		const lanes = 8
		items := journeyDeliveries(1, 600, lanes, clock)
		rng := rand.New(rand.NewPCG(7, 9))
		for i := 0; i+lanes < len(items); i++ {
			if rng.IntN(4) == 0 { // a customer's step overtakes the one before it
				items[i], items[i+lanes] = items[i+lanes], items[i]
			}
		}
		var dups []*models.Delivery
		for i, it := range items {
			if rng.IntN(15) == 0 { // the same step again, under a new delivery id
				d := *it
				d.DeliveryID = fmt.Sprintf("dup-%d", i)
				dups = append(dups, &d)
			}
		}
		items = append(items, dups...)

		run := func(mode string) map[string]string {
			st := storetest.Open(t, driver)
			var tick atomic.Int64 // rows' updated_at must change for MySQL to count them
			st.Now = func() time.Time { return clock.Add(time.Duration(tick.Add(1)) * time.Microsecond) }
			shop := &models.Shop{Key: "bench", Platform: models.PlatformStandard, Source: "cli", Secrets: models.ShopSecrets{Webhook: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
			if err := st.SaveShop(ctx, shop); err != nil {
				t.Fatal(err)
			}
			log := slog.New(slog.NewTextHandler(tLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
			now := func() time.Time { return clock }
			metrics := process.NewMetrics(prometheus.NewRegistry())
			// newProc is a processor as a replica runs it, with a journey
			// cache of its own in the modes that use one.
			newProc := func() *process.Processor {
				p := &process.Processor{
					Store:     st,
					Receivers: map[models.Platform]plugin.Receiver{models.PlatformStandard: standard.New(time.Minute)},
					Planner:   &process.RulesPlanner{Rules: rules.NewHolder(set), Log: log, Now: now, Options: journey.DefaultOptions},
					Log:       log, Options: journey.DefaultOptions, BatchSize: 200, MaxAttempts: 3, Now: now,
					Metrics: metrics,
				}
				if mode != "batch" && mode != "careful" {
					// A small bound, so that entries are also evicted.
					p.Journeys = &process.JourneyCache{MaxEvents: 100}
				}
				return p
			}
			proc := newProc()
			for _, it := range items {
				c := *it
				c.ShopID = shop.ID
				if _, err := st.InsertInboxBatch(ctx, []*models.Delivery{&c}); err != nil {
					t.Fatal(err)
				}
			}
			switch mode {
			case "concurrent":
				var procs []*process.Processor
				for range 4 {
					p := newProc() // four replicas, each with its cache
					p.BatchSize = 20
					procs = append(procs, p)
				}
				drainWith(t, ctx, st, 2*time.Minute, procs...)
			default:
				for {
					process := proc.ProcessBatch
					if mode == "careful" {
						process = proc.ProcessBatchCareful
					}
					n, err := process(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if n == 0 {
						break
					}
				}
			}
			if pending, _, err := st.InboxBacklog(ctx); err != nil || pending != 0 {
				t.Fatalf("backlog %d, %v", pending, err)
			}
			// Nothing in these journeys fails: a batch run again the
			// careful way means its own state was wrong.
			if n := testutil.ToFloat64(proc.Metrics.Careful); (mode == "batch" || mode == "cached") && n != 0 {
				t.Errorf("batch: %v batches were run again the careful way", n)
			}
			if hits, misses := proc.Journeys.Stats(); mode == "cached" && (hits == 0 || misses == 0) {
				t.Errorf("cached: %d hits, %d misses: the cache was not put to the test", hits, misses)
			}
			// Everything a customer has, by the shop's customer id.
			out := map[string]string{}
			stored := map[string]float64{} // actions by rule
			defer func() {
				// Each stored action counted once, whatever was rolled back and run again.
				if counted := sumBy(t, proc.Metrics.Planned, "rule"); !maps.Equal(counted, stored) || len(stored) == 0 {
					t.Errorf("%s: treue_actions_planned_total by rule = %v, stored actions by rule = %v", mode, counted, stored)
				}
			}()
			for c := 0; ; c++ {
				prof, err := st.CustomerByIdentity(ctx, shop.ID, models.IdentityID, fmt.Sprintf("c-%d", c))
				if err != nil {
					break
				}
				acts, err := st.CustomerActions(ctx, prof.CustomerID)
				if err != nil {
					t.Fatal(err)
				}
				evs, err := st.CustomerEvents(ctx, prof.CustomerID)
				if err != nil {
					t.Fatal(err)
				}
				step := map[int64]string{}
				for _, e := range evs {
					step[e.ID] = e.StepKey
				}
				ledger, err := st.LedgerOf(ctx, []int64{prof.CustomerID})
				if err != nil {
					t.Fatal(err)
				}
				booked := map[int64]int64{}
				for _, l := range ledger[prof.CustomerID] {
					booked[l.ActionID] += l.Delta
				}
				var lines []string
				for _, a := range acts {
					stored[a.RuleID]++
					lines = append(lines, fmt.Sprintf("%s %s %s %s %s %s for %q booked %d ¦%s", a.RuleID, a.Type, a.Status, a.OrderRef, a.SKU,
						a.DueAt.Format(time.RFC3339), step[a.TriggerEventID], booked[a.ID], a.Reason))
				}
				slices.Sort(lines)
				balance, err := st.PointsBalance(ctx, prof.CustomerID)
				if err != nil {
					t.Fatal(err)
				}
				prof.CustomerID, prof.PublicID = 0, ""
				p, _ := json.Marshal(prof)
				out[fmt.Sprintf("c-%d", c)] = fmt.Sprintf("profile %s\npoints %d\n%s", p, balance, strings.Join(lines, "\n"))
			}
			return out
		}
		careful := run("careful")
		for _, mode := range []string{"batch", "cached", "concurrent"} {
			if mode == "concurrent" && driver == "sqlite" {
				continue // one connection: the processors would only take turns
			}
			got := run(mode)
			if len(got) < 15 || len(got) != len(careful) {
				t.Fatalf("%s: %d customers, %d careful", mode, len(got), len(careful))
			}
			for c, want := range careful {
				if mode == "concurrent" && orderFree(want) == orderFree(got[c]) {
					continue
				}
				if got[c] != want {
					t.Errorf("%s, customer %s:\n%s: %s\ncareful: %s", mode, c, mode, got[c], want)
				}
			}
			t.Logf("%s: %d customers compared", mode, len(got))
		}
	})
}

var (
	reasons    = regexp.MustCompile(`¦[^\n]*`)
	orderBound = regexp.MustCompile(`(?m)^(tier-upgrade|review-request|second-purchase-sample) .*\n?`)
)

// orderFree keeps what must not depend on the order in which concurrent
// processors happen to take a customer's steps: the profile, the points and
// the per-order and per-item actions, without the reasons (a reorder and a
// return both make a reminder moot; which one cancels it first may differ).
// Known limit: once-per-customer rules (tier-upgrade, the second-purchase
// sample) may end up attributed to another order or retracted, and the
// frequency cap may count another set of actions, when the steps are taken
// far out of order.
func orderFree(s string) string {
	return reasons.ReplaceAllString(orderBound.ReplaceAllString(s, ""), "")
}

type tLog struct{ t *testing.T }

func (l tLog) Write(b []byte) (int, error) {
	l.t.Log(string(b))
	return len(b), nil
}

// TestProcessor_RunGrowsBatchesWhileBacklogged: Run takes BatchSize while
// the inbox is nearly empty and grows its batches, up to BacklogBatchSize,
// while a backlog waits.
func TestProcessor_RunGrowsBatchesWhileBacklogged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		st := storetest.Open(t, driver)
		shop := &models.Shop{Key: "bench", Platform: models.PlatformStandard, Source: "cli", Secrets: models.ShopSecrets{Webhook: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}
		if err := st.SaveShop(ctx, shop); err != nil {
			t.Fatal(err)
		}
		items := journeyDeliveries(shop.ID, 300, 8, time.Now())
		if _, err := st.InsertInboxBatch(ctx, items); err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(tLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
		proc := &process.Processor{
			Store:     st,
			Receivers: map[models.Platform]plugin.Receiver{models.PlatformStandard: standard.New(time.Minute)},
			Log:       log, Options: journey.DefaultOptions, BatchSize: 10, BacklogBatchSize: 40, Poll: 10 * time.Millisecond,
			MaxAttempts: 3, Now: time.Now, Metrics: process.NewMetrics(prometheus.NewRegistry()),
		}
		done := make(chan error, 1)
		go func() { done <- proc.Run(ctx) }()
		deadline := time.Now().Add(time.Minute)
		for {
			pending, _, err := st.InboxBacklog(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if pending == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d deliveries still pending after a minute", pending)
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// 300 deliveries: 10, 20, 40, 40, … — not 30 batches of 10, and none above 40.
		var m dto.Metric
		if err := proc.Metrics.Batch.Write(&m); err != nil {
			t.Fatal(err)
		}
		h := m.GetHistogram()
		if got := h.GetSampleSum(); got != float64(len(items)) {
			t.Errorf("batches processed %v deliveries, want %d", got, len(items))
		}
		if n := h.GetSampleCount(); n > 12 {
			t.Errorf("%d batches for %d deliveries: they did not grow", n, len(items))
		}
		for _, b := range h.GetBucket() {
			if b.GetUpperBound() == 25 && b.GetCumulativeCount() > 2 {
				t.Errorf("%d batches of at most 25 deliveries, want the first two only", b.GetCumulativeCount())
			}
			if b.GetUpperBound() == 50 && b.GetCumulativeCount() != h.GetSampleCount() {
				t.Errorf("%d batches above BacklogBatchSize", h.GetSampleCount()-b.GetCumulativeCount())
			}
		}
	})
}

// sumBy adds a counter vector's series up by one label's value.
func sumBy(t *testing.T, vec *prometheus.CounterVec, label string) map[string]float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 64)
	go func() { vec.Collect(ch); close(ch) }()
	out := map[string]float64{}
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		for _, l := range d.GetLabel() {
			if l.GetName() == label {
				out[l.GetValue()] += d.GetCounter().GetValue()
			}
		}
	}
	return out
}

// exampleSet is examples/rules.yaml without its holdout: membership hangs on
// the customers' random public ids.
func exampleSet(t *testing.T) *rules.Set {
	t.Helper()
	src, err := os.ReadFile("../../examples/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src = bytes.Replace(src, []byte("holdout_percent: 5 "), []byte("holdout_percent: 0 "), 1)
	set, err := rules.Parse("rules.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// drainWith processes the inbox with each of procs in a goroutine of its
// own, as replicas do (the same processor several times: several loops of
// one replica), until it is empty.
func drainWith(t *testing.T, ctx context.Context, st *store.Store, within time.Duration, procs ...*process.Processor) {
	t.Helper()
	deadline := time.Now().Add(within)
	var wg sync.WaitGroup
	for _, proc := range procs {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				n, err := proc.ProcessBatch(ctx)
				if errors.Is(err, models.ErrUnavailable) {
					continue // a deadlock or a busy file: run again, as Run does
				}
				if err != nil {
					t.Error(err)
					return
				}
				if n > 0 {
					continue
				}
				// Nothing claimable: done once no other processor holds rows.
				if pending, _, err := st.InboxBacklog(ctx); err != nil || pending == 0 {
					return
				}
				time.Sleep(time.Millisecond)
			}
			t.Errorf("the processors did not drain the inbox in %v", within)
		})
	}
	wg.Wait()
}
