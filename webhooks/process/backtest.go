package process

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/rules"
)

// Backtest replays a shop's stored journeys through a rules set and reports
// what it would have planned, next to what the rules in force planned. The
// replay records with the processor's own Recorder into a journal in memory,
// one event at a time in the order the events arrived, each at the moment
// it arrived, so that caps, cancellations and late steps play out as they
// would have. The live store is only read.
//
// Actions of the daily scan (win-back, birthdays) depend on the days the scan
// ran, not on events; they are not replayed and are counted apart.
type Backtest struct {
	Live  *store.Store
	Rules *rules.Set
	// Workers replay that many pages of customers at once; 0 means two per
	// CPU, so that one's read of the live store overlaps another's replay.
	Workers int
	// Progress, when set, is told how many customers of how many have
	// been replayed, after each page.
	Progress func(done, total int)
	Options  journey.Options
	Log      *slog.Logger
}

// BacktestCounts counts actions by outcome. Planned counts everything that
// was or would be carried out (scheduled, sent, retried, dead).
type BacktestCounts struct {
	Planned, Suppressed, Cancelled int
}

func (c *BacktestCounts) merge(o BacktestCounts) {
	c.Planned, c.Suppressed, c.Cancelled = c.Planned+o.Planned, c.Suppressed+o.Suppressed, c.Cancelled+o.Cancelled
}

func (c *BacktestCounts) add(s models.ActionStatus) {
	switch s {
	case models.ActionSuppressed:
		c.Suppressed++
	case models.ActionCancelled:
		c.Cancelled++
	default:
		c.Planned++
	}
}

// BacktestRule is one rule's line of the report.
type BacktestRule struct {
	RuleID          string
	Simulated, Live BacktestCounts
}

// BacktestReport is what Run found.
type BacktestReport struct {
	Customers, Events int
	// Rules lists every rule that planned anything in either run, by id.
	Rules []BacktestRule
	// ScanActions counts the live actions of the daily scan in the period;
	// the replay has none.
	ScanActions int

	// Spend is the incentive spend per month and rule (backtest_budget.go).
	Spend []BacktestSpend
}

// Run replays the journeys of up to limit customers of shop (0: all) and
// counts the actions triggered by events that happened at or after since.
// Every customer's whole journey is replayed, also before since, so that
// profiles and caps start from what the customer had done.
//
// Customers are independent of each other in the replay, so pages of them
// are read in one query per table and replayed by Workers at once.
func (b *Backtest) Run(ctx context.Context, shop *models.Shop, since time.Time, limit int) (BacktestReport, error) {
	ids, err := b.Live.ShopCustomerIDs(ctx, shop.ID)
	if err != nil {
		return BacktestReport{}, fmt.Errorf("backtest: customers: %w", err)
	}
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	var pages [][]int64
	for ids := range slices.Chunk(ids, backtestPage) {
		pages = append(pages, ids)
	}
	workers := min(cmp.Or(b.Workers, 2*runtime.GOMAXPROCS(0)), max(len(pages), 1))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan []int64)
	go func() {
		defer close(next)
		for _, p := range pages {
			select {
			case next <- p:
			case <-ctx.Done():
				return
			}
		}
	}()
	var (
		mu       sync.Mutex
		total    = newTally(since)
		done     int
		firstErr error
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := b.newRun(shop)
			for page := range next {
				t := newTally(since)
				err := r.replayPage(ctx, page, t)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				total.merge(t)
				done += len(page)
				if b.Progress != nil && err == nil {
					b.Progress(done, len(ids))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return BacktestReport{}, firstErr
	}
	rep := total.report()
	total.spend(&rep, b.Rules)
	return rep, nil
}

// backtestPage is how many customers one read of the live store brings.
var backtestPage = 200

// tally counts one part of a Run's actions.
type tally struct {
	since time.Time
	rep   BacktestReport
	rows  map[string]*BacktestRule

	// costed and live are the replayed and recorded actions with a cost.
	costed, live []costed
}

func newTally(since time.Time) *tally { return &tally{since: since, rows: map[string]*BacktestRule{}} }

func (t *tally) row(id string) *BacktestRule {
	if t.rows[id] == nil {
		t.rows[id] = &BacktestRule{RuleID: id}
	}
	return t.rows[id]
}

// add counts the actions of the period; happened says when each one's
// trigger event happened.
func (t *tally) add(acts []models.Action, happened map[int64]time.Time, live bool) {
	for _, a := range acts {
		at, ok := happened[a.TriggerEventID]
		t.addCost(&a, live, ok && !at.Before(t.since))
		switch {
		case !ok: // planned by the daily scan
			if live && !a.CreatedAt.Before(t.since) {
				t.rep.ScanActions++
			}
		case at.Before(t.since):
		case live:
			t.row(a.RuleID).Live.add(a.Status)
		default:
			t.row(a.RuleID).Simulated.add(a.Status)
		}
	}
}

func (t *tally) merge(o *tally) {
	t.rep.Customers += o.rep.Customers
	t.rep.Events += o.rep.Events
	t.rep.ScanActions += o.rep.ScanActions
	t.costed, t.live = append(t.costed, o.costed...), append(t.live, o.live...)
	for id, r := range o.rows {
		m := t.row(id)
		m.Simulated.merge(r.Simulated)
		m.Live.merge(r.Live)
	}
}

func (t *tally) report() BacktestReport {
	rep := t.rep
	for _, r := range t.rows {
		rep.Rules = append(rep.Rules, *r)
	}
	slices.SortFunc(rep.Rules, func(a, b BacktestRule) int { return cmp.Compare(a.RuleID, b.RuleID) })
	return rep
}

// backtestRun is one worker of a Run: the shop without its secrets, and the
// recorder with its clock, which the replay sets to each event's arrival.
type backtestRun struct {
	*Backtest
	// live is Live scoped to the shop replayed.
	live     *store.Store
	shop     models.Shop
	recorder *Recorder
	now      time.Time
}

func (b *Backtest) newRun(shop *models.Shop) *backtestRun {
	r := &backtestRun{Backtest: b, live: b.Live.ForShop(shop.ID), shop: *shop}
	r.shop.Secrets = models.ShopSecrets{}
	clock := func() time.Time { return r.now }
	planner := &RulesPlanner{Rules: rules.NewHolder(b.Rules), Log: b.Log, Now: clock, Options: b.Options}
	r.recorder = &Recorder{Planner: planner, Options: b.Options, Now: clock}
	return r
}

// replayPage replays a page of customers, read from the live store in one
// query per table, and counts their actions into t.
func (r *backtestRun) replayPage(ctx context.Context, ids []int64, t *tally) error {
	events, err := r.live.EventsOf(ctx, ids)
	if err != nil {
		return fmt.Errorf("backtest: events: %w", err)
	}
	profiles, err := r.live.ProfilesOf(ctx, ids)
	if err != nil {
		return fmt.Errorf("backtest: profiles: %w", err)
	}
	actions, err := r.live.ActionsOf(ctx, ids)
	if err != nil {
		return fmt.Errorf("backtest: live actions: %w", err)
	}
	for _, id := range ids {
		prof, ok := profiles[id]
		if !ok {
			continue // erased since the page was listed
		}
		got, err := r.replay(ctx, id, prof.PublicID, events[id], actions[id])
		if err != nil {
			return err
		}
		t.rep.Customers++
		t.rep.Events += got.events
		t.add(got.sim, got.simAt, false)
		t.add(got.live, got.liveAt, true)
	}
	return nil
}

// replayed is one customer's replay: the live and the replayed actions, and
// when each one's events happened (by event id).
type replayed struct {
	live, sim     []models.Action
	liveAt, simAt map[int64]time.Time
	events        int
}

// replay records one live customer's events in a journal of its own, in
// the order they arrived, planning after each as the processor does.
func (r *backtestRun) replay(ctx context.Context, liveID int64, publicID string, recs []store.EventRecord, live []models.Action) (replayed, error) {
	out := replayed{live: live}
	out.liveAt, out.simAt = make(map[int64]time.Time, len(recs)), make(map[int64]time.Time, len(recs))
	for _, rec := range recs {
		out.liveAt[rec.ID] = rec.OccurredAt
	}
	// A customer of its own, whatever identities the live one shares, with
	// the live one's public id: holdout membership is derived from it.
	j := newMemoryJournal(func() time.Time { return r.now })
	j.addCustomer(liveID, publicID)
	slices.SortStableFunc(recs, func(a, b store.EventRecord) int {
		return cmp.Or(a.ReceivedAt.Compare(b.ReceivedAt), cmp.Compare(a.ID, b.ID))
	})
	for _, live := range recs {
		e, err := live.Event()
		if err != nil {
			return out, fmt.Errorf("backtest: %w", err)
		}
		rec := live
		rec.ID, rec.InboxID = 0, 0
		r.now = live.ReceivedAt
		inserted, err := r.recorder.Record(ctx, j, Entry{Shop: &r.shop, Event: e, Record: &rec})
		if err != nil {
			return out, fmt.Errorf("backtest: record event %d: %w", live.ID, err)
		}
		if inserted {
			out.simAt[rec.ID] = rec.OccurredAt
			out.events++
		}
	}
	out.sim = j.state(liveID).actions
	return out, nil
}
