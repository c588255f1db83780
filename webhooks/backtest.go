package webhooks

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
// replay runs the processor's own recording and planning steps against a
// scratch store, one event at a time in the order the events arrived, each
// at the moment it arrived, so that caps, cancellations and late steps play
// out as they would have. The live store is only read.
//
// Actions of the daily scan (win-back, birthdays) depend on the days the scan
// ran, not on events; they are not replayed and are counted apart.
type Backtest struct {
	Live    *store.Store
	Scratch *store.Store // migrated and empty
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
	r.shop.ID, r.shop.Secrets, r.shop.Source = 0, models.ShopSecrets{}, "cli"
	if err := b.Scratch.SaveShop(ctx, &r.shop); err != nil {
		return rep, fmt.Errorf("backtest: scratch shop: %w", err)
	}
	r.planner = &RulesPlanner{Rules: rules.NewHolder(b.Rules), Log: b.Log, Now: func() time.Time { return r.now }, Options: b.Options}
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

// backtestRun is one Run: the shop's copy in the scratch store, and the
// planner with its clock, which the replay sets to each event's arrival.
type backtestRun struct {
	*Backtest
	// live is Live scoped to the shop replayed.
	live    *store.Store
	shop    models.Shop
	planner *RulesPlanner
	now     time.Time
}

// replayed is one customer's replay: both stores' actions, and when each
// store's events happened (by event id).
type replayed struct {
	live, sim     []models.Action
	liveAt, simAt map[int64]time.Time
	events        int
}

// replay records one live customer's events in the scratch store, in the
// order they arrived, planning after each as the processor does.
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
	var simID int64
	// One transaction per customer: the scratch store is thrown away, and a
	// commit per statement would take most of the time.
	err = r.Scratch.InTx(ctx, func(tx *store.Store) error {
		simID, err = r.record(ctx, tx, liveID, prof.PublicID, recs, &out)
		return err
	})
	if err != nil {
		return out, err
	}
	sim, err := r.Scratch.ActionsOf(ctx, []int64{simID})
	if err != nil {
		return out, fmt.Errorf("backtest: simulated actions: %w", err)
	}
	out.sim = sim[simID]
	return out, nil
}

// record is replay's part in the scratch store: it adds recs, in the order
// they arrived, to a new customer and plans after each one, at the moment
// it arrived.
func (r *backtestRun) record(ctx context.Context, tx *store.Store, liveID int64, publicID string, recs []store.EventRecord, out *replayed) (simID int64, err error) {
	// A customer of its own, whatever identities the live one shares.
	ids, err := tx.ResolveCustomers(ctx, []store.CustomerKey{{ShopID: r.shop.ID, Ref: models.CustomerRef{ID: fmt.Sprint("backtest-", liveID)}}})
	if err != nil {
		return 0, fmt.Errorf("backtest: scratch customer: %w", err)
	}
	simID = ids[0]
	recs = slices.Clone(recs)
	slices.SortStableFunc(recs, func(a, b store.EventRecord) int {
		return cmp.Or(a.ReceivedAt.Compare(b.ReceivedAt), cmp.Compare(a.ID, b.ID))
	})
	j := sameCustomer{direct{tx}, publicID}
	for _, live := range recs {
		e, err := live.Event()
		if err != nil {
			return 0, fmt.Errorf("backtest: %w", err)
		}
		rec := live
		rec.ID, rec.ShopID, rec.CustomerID, rec.InboxID = 0, r.shop.ID, simID, 0
		inserted, err := j.InsertEvent(ctx, &rec)
		if err != nil {
			return 0, fmt.Errorf("backtest: record event %d: %w", live.ID, err)
		}
		if !inserted {
			continue
		}
		out.simAt[rec.ID] = rec.OccurredAt
		out.events++
		if e.Type == models.CategoryOptedOut && e.Data.OptOut != nil {
			if _, err := j.AddOptOut(ctx, r.shop.ID, simID, e.Data.OptOut.Category, rec.Platform); err != nil {
				return 0, fmt.Errorf("backtest: opt-out: %w", err)
			}
		}
		r.now = live.ReceivedAt
		prof, history, all, err := rebuildProfile(ctx, j, simID, r.now, r.Options)
		if err != nil {
			return 0, fmt.Errorf("backtest: profile: %w", err)
		}
		if err := r.planner.Plan(ctx, j, PlanInput{Shop: &r.shop, Event: e, Record: &rec, Profile: prof, History: history, Records: all}); err != nil {
			return 0, fmt.Errorf("backtest: plan event %d: %w", live.ID, err)
		}
	}
	return simID, nil
}

// sameCustomer is the scratch journal, with the live customer's public id:
// holdout membership is derived from it.
type sameCustomer struct {
	direct
	publicID string
}

func (s sameCustomer) Profile(ctx context.Context, customerID int64) (*models.Profile, error) {
	p, err := s.direct.Profile(ctx, customerID)
	if err == nil {
		p.PublicID = s.publicID
	}
	return p, err
}
