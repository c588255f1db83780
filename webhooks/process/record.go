package process

import (
	"context"
	"time"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

// PlanStore is the part of a journal the planner reads and writes.
type PlanStore interface {
	PointsBalance(ctx context.Context, customerID int64) (int64, error)
	PointsBalanceAsOf(ctx context.Context, customerID int64, at time.Time) (int64, error)
	PendingActions(ctx context.Context, customerID int64) ([]models.Action, error)
	RecentMarketing(ctx context.Context, customerID int64, from, to time.Time) ([]time.Time, error)
	RecentMarketingAsOf(ctx context.Context, customerID int64, from, to, asOf time.Time, exceptEvent int64) ([]time.Time, error)
	InsertAction(ctx context.Context, a *models.Action) (bool, error)
	CancelAction(ctx context.Context, id int64, reason string) (bool, error)
	ActionByKey(ctx context.Context, shopID int64, key string) (models.Action, error)
	Replan(ctx context.Context, id int64, status models.ActionStatus, reason string, due time.Time) (bool, error)
	AddPoints(ctx context.Context, shopID, customerID, actionID, delta int64, reason string) error

	// BudgetSpent locks the shop's incentive budget for the transaction and
	// sums the cost of its actions due in [from, to) that spend it.
	BudgetSpent(ctx context.Context, shopID int64, from, to time.Time) (int64, error)
}

// ProfileJournal is the part of a journal a profile is rebuilt from.
type ProfileJournal interface {
	// Journey returns the stored events in source-time order: the rows
	// and, index for index, their events decoded.
	Journey(ctx context.Context, customerID int64) ([]store.EventRecord, []models.Event, error)
	Profile(ctx context.Context, customerID int64) (*models.Profile, error)
	OptOuts(ctx context.Context, customerID int64) ([]models.OptOutRecord, error)
	SaveProfile(ctx context.Context, p *models.Profile) error
}

// Journal is the pipeline's only way to customers' journeys: what the
// planner and a profile's rebuild use, and the recording of events and
// opt-outs. The store (a transaction of it) is the durable journal; a
// batch's journal keeps the state of its customers in memory in front of
// it, and the backtest runs on memory alone.
type Journal interface {
	PlanStore
	ProfileJournal
	InsertEvent(ctx context.Context, r *store.EventRecord) (bool, error)
	AddOptOut(ctx context.Context, shopID, customerID int64, category, source string) (bool, error)
	// ActionsDueSince lists a customer's actions due at or after since.
	ActionsDueSince(ctx context.Context, customerID int64, since time.Time) ([]models.Action, error)
}

var (
	_ Journal = (*store.Store)(nil)
	_ Journal = (*batchJournal)(nil)
)

// Recorder records events into journeys: the one way an event joins a
// customer's journey, for a webhook's delivery, an order read from the
// shop's API and the backtest's replay alike.
type Recorder struct {
	Planner Planner // optional
	Options journey.Options
	Now     func() time.Time
	// Observe, when set, sees each new event once its profile is rebuilt and
	// before it plans, so that the actions an event plans are never its own
	// outcome's touch.
	Observe func(ctx context.Context, j Journal, shop *models.Shop, e models.Event, customerID int64) error
}

// Entry is an event about to join its customer's journey.
type Entry struct {
	Shop  *models.Shop
	Event models.Event
	// Record is its row, customer and data filled in; InsertEvent gives it
	// its id.
	Record *store.EventRecord
	// History limits what an event read from the shop's API plans; the
	// zero value (every webhook) plans everything.
	History History
}

// Record appends in's event to its customer's journey in j, unless the
// journey has its step already (another topic, a replay: nothing changes
// then), records an opt-out, rebuilds the profile and plans. It reports
// whether the event was new.
func (r *Recorder) Record(ctx context.Context, j Journal, in Entry) (bool, error) {
	rec, e := in.Record, in.Event
	inserted, err := j.InsertEvent(ctx, rec)
	if err != nil || !inserted {
		return false, err
	}
	if e.Type == models.CategoryOptedOut && e.Data.OptOut != nil {
		if _, err := j.AddOptOut(ctx, rec.ShopID, rec.CustomerID, e.Data.OptOut.Category, rec.Platform); err != nil {
			return true, err
		}
	}
	prof, history, recs, err := RebuildProfile(ctx, j, rec.CustomerID, r.Now(), r.Options)
	if err != nil {
		return true, err
	}
	if r.Observe != nil {
		if err := r.Observe(ctx, j, in.Shop, e, rec.CustomerID); err != nil {
			return true, err
		}
	}
	if r.Planner == nil {
		return true, nil
	}
	return true, r.Planner.Plan(ctx, j, PlanInput{Shop: in.Shop, Event: e, Record: rec, Profile: prof, History: history, Records: recs,
		PlanFrom: in.History.PlanFrom, HistoricPoints: in.History.Points})
}

// RebuildProfile derives a customer's profile from their whole journey and
// stores it; it returns the profile and the journey. Recording, the daily
// scan and an opt-out through the API rebuild with it.
func RebuildProfile(ctx context.Context, j ProfileJournal, customerID int64, now time.Time, opts journey.Options) (*models.Profile, []models.Event, []store.EventRecord, error) {
	recs, history, err := j.Journey(ctx, customerID)
	if err != nil {
		return nil, nil, nil, err
	}
	prev, err := j.Profile(ctx, customerID)
	if err != nil {
		return nil, nil, nil, err
	}
	prof := journey.Build(history, now, opts)
	prof.CustomerID, prof.PublicID = customerID, prev.PublicID
	// Opt-outs come from the shop's events and from the API (which can also
	// undo them), so the table is their record.
	optOuts, err := j.OptOuts(ctx, customerID)
	if err != nil {
		return nil, nil, nil, err
	}
	prof.OptedOutCategories = make([]string, len(optOuts))
	for i, o := range optOuts {
		prof.OptedOutCategories[i] = o.Category
	}
	// Points, tier and referral data are kept by the action side, not derived here.
	prof.PointsBalance, prof.Tier, prof.ReferralCode, prof.Holdout = prev.PointsBalance, prev.Tier, prev.ReferralCode, prev.Holdout
	if err := j.SaveProfile(ctx, &prof); err != nil {
		return nil, nil, nil, err
	}
	return &prof, history, recs, nil
}
