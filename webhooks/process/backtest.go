package process

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
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
	Live    *store.Store
	Rules   *rules.Set
	Options journey.Options
	Log     *slog.Logger
}

// BacktestCounts counts actions by outcome. Planned counts everything that
// was or would be carried out (scheduled, sent, retried, dead).
type BacktestCounts struct {
	Planned, Suppressed, Cancelled int
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
}

// Run replays the journeys of up to limit customers of shop (0: all) and
// counts the actions triggered by events that happened at or after since.
// Every customer's whole journey is replayed, also before since, so that
// profiles and caps start from what the customer had done.
func (b *Backtest) Run(ctx context.Context, shop *models.Shop, since time.Time, limit int) (BacktestReport, error) {
	var rep BacktestReport
	r := &backtestRun{Backtest: b, live: b.Live.ForShop(shop.ID), shop: *shop}
	r.shop.Secrets = models.ShopSecrets{}
	clock := func() time.Time { return r.now }
	planner := &RulesPlanner{Rules: rules.NewHolder(b.Rules), Log: b.Log, Now: clock, Options: b.Options}
	r.recorder = &Recorder{Planner: planner, Options: b.Options, Now: clock}
	rows := map[string]*BacktestRule{}
	row := func(id string) *BacktestRule {
		if rows[id] == nil {
			rows[id] = &BacktestRule{RuleID: id}
		}
		return rows[id]
	}
	// count adds the actions of the period to the report.
	count := func(acts []models.Action, happened map[int64]time.Time, live bool) {
		for _, a := range acts {
			at, ok := happened[a.TriggerEventID]
			switch {
			case !ok: // planned by the daily scan
				if live && !a.CreatedAt.Before(since) {
					rep.ScanActions++
				}
			case at.Before(since):
			case live:
				row(a.RuleID).Live.add(a.Status)
			default:
				row(a.RuleID).Simulated.add(a.Status)
			}
		}
	}

	ids, err := b.Live.ShopCustomerIDs(ctx, shop.ID)
	if err != nil {
		return rep, fmt.Errorf("backtest: customers: %w", err)
	}
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	for _, id := range ids {
		got, err := r.replay(ctx, id)
		if err != nil {
			return rep, err
		}
		rep.Customers++
		rep.Events += got.events
		count(got.sim, got.simAt, false)
		count(got.live, got.liveAt, true)
	}
	for _, r := range rows {
		rep.Rules = append(rep.Rules, *r)
	}
	slices.SortFunc(rep.Rules, func(a, b BacktestRule) int { return cmp.Compare(a.RuleID, b.RuleID) })
	return rep, nil
}

// backtestRun is one Run: the shop without its secrets, and the recorder
// with its clock, which the replay sets to each event's arrival.
type backtestRun struct {
	*Backtest
	// live is Live scoped to the shop replayed.
	live     *store.Store
	shop     models.Shop
	recorder *Recorder
	now      time.Time
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
func (r *backtestRun) replay(ctx context.Context, liveID int64) (replayed, error) {
	var out replayed
	recs, err := r.live.CustomerEvents(ctx, liveID)
	if err != nil {
		return out, fmt.Errorf("backtest: customer %d: %w", liveID, err)
	}
	prof, err := r.live.Profile(ctx, liveID)
	if err != nil {
		return out, fmt.Errorf("backtest: customer %d: %w", liveID, err)
	}
	live, err := r.live.ActionsOf(ctx, []int64{liveID})
	if err != nil {
		return out, fmt.Errorf("backtest: live actions: %w", err)
	}
	out.live = live[liveID]
	out.liveAt, out.simAt = make(map[int64]time.Time, len(recs)), make(map[int64]time.Time, len(recs))
	for _, rec := range recs {
		out.liveAt[rec.ID] = rec.OccurredAt
	}
	// A customer of its own, whatever identities the live one shares, with
	// the live one's public id: holdout membership is derived from it.
	j := newMemoryJournal(func() time.Time { return r.now })
	j.addCustomer(liveID, prof.PublicID)
	recs = slices.Clone(recs)
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
