package process

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

// batchJournal holds, for the customers of one inbox batch, everything
// recording and planning read: loaded in a few queries for the whole batch
// and kept current by the writes that go through it. The writes are kept
// until flush stores them, one statement per kind; new events and actions
// carry provisional ids until then.
//
// The batch has the customers locked, so only the dispatcher changes their
// rows meanwhile, and only the status of actions on their way out. What the
// batch decides from its state is checked when it is stored: a cancellation
// that finds its action gone out, or an event or action that conflicts with
// a row the batch did not load, fails the flush, and the batch is run again
// the careful way.
//
// Without a store behind it (newMemoryJournal) the journal is the whole
// truth about its customers: the backtest replays journeys on one, and
// nothing is ever flushed.
type batchJournal struct {
	tx        *store.Store // nil: memory only
	now       func() time.Time
	customers map[int64]*customerState
	eventAt   map[int64]time.Time // event id → when it happened, for every loaded event
	owner     map[int64]int64     // action id → its customer, for every loaded and new action

	lastID     int64                // the last provisional id handed out
	newEvents  []*store.EventRecord // in the order they were recorded
	newActions []int64              // provisional ids, in the order they were planned
	bookings   []store.Booking      // ActionID may be provisional
	cancels    map[int64]string     // stored action → reason

	// budgetBase is the store's spend per shop and month, read once.
	budgetBase map[budgetKey]int64
	// stored maps the provisional ids of the flushed events and actions to
	// the ids the database gave them.
	stored map[int64]int64
}

// firstProvisional is above every stored id, so provisional ids sort after
// the stored ones and among themselves in the order handed out, as the ids
// the database assigns at flush will.
const firstProvisional = 1 << 62

func (j *batchJournal) provisionalID() int64 {
	if j.lastID == 0 {
		j.lastID = firstProvisional
	}
	j.lastID++
	return j.lastID
}

func provisional(id int64) bool { return id > firstProvisional }

type customerState struct {
	// records and history are never written in place: Journey hands them
	// out and the cache keeps them, so an insert makes new ones (inserted).
	records []store.EventRecord
	history []models.Event
	profile *models.Profile
	optOuts []models.OptOutRecord
	actions []models.Action // by due time, id
	ledger  []store.LedgerEntry
	dirty   bool // profile changed, not written yet
}

// loadBatchJournal loads the state of customers ids (locked by the caller).
// The events of customers the cache holds under their current stamp are
// taken from it (nil: none is).
func loadBatchJournal(ctx context.Context, tx *store.Store, ids []int64, cache *JourneyCache) (*batchJournal, error) {
	profiles, err := tx.ProfilesOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	type known struct {
		records []store.EventRecord
		history []models.Event
	}
	var cached map[int64]known
	toRead := ids
	if cache != nil {
		stamps, err := tx.EventStamps(ctx, ids)
		if err != nil {
			return nil, err
		}
		now := tx.Now()
		cached, toRead = make(map[int64]known, len(ids)), make([]int64, 0, len(ids))
		for _, id := range ids {
			if recs, hist, ok := cache.get(id, stamps[id], now); ok {
				cached[id] = known{recs, hist}
			} else {
				toRead = append(toRead, id)
			}
		}
	}
	events, err := tx.EventsOf(ctx, toRead)
	if err != nil {
		return nil, err
	}
	optOuts, err := tx.OptOutsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	actions, err := tx.ActionsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	ledger, err := tx.LedgerOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	j := &batchJournal{tx: tx, now: tx.Now, customers: make(map[int64]*customerState, len(ids)), eventAt: map[int64]time.Time{},
		owner: map[int64]int64{}, cancels: map[int64]string{}}
	for _, id := range ids {
		p, ok := profiles[id]
		if !ok {
			return nil, store.ErrRetry // resolved a moment ago: only a concurrent erasure removes it
		}
		c := &customerState{records: events[id], profile: p, optOuts: optOuts[id], actions: actions[id], ledger: ledger[id]}
		for _, a := range c.actions {
			j.owner[a.ID] = id
		}
		if k, ok := cached[id]; ok {
			c.records, c.history = k.records, k.history
		} else {
			c.history = make([]models.Event, len(c.records))
			for i := range c.records {
				if c.history[i], err = c.records[i].Event(); err != nil {
					return nil, err
				}
			}
		}
		for i := range c.records {
			j.eventAt[c.records[i].ID] = c.records[i].OccurredAt
		}
		j.customers[id] = c
	}
	return j, nil
}

// newMemoryJournal is a journal with no store behind it, for customers
// added with addCustomer.
func newMemoryJournal(now func() time.Time) *batchJournal {
	return &batchJournal{now: now, customers: map[int64]*customerState{}, eventAt: map[int64]time.Time{},
		owner: map[int64]int64{}, cancels: map[int64]string{}}
}

// addCustomer starts the journey of a new customer in a memory journal, as
// the store starts one: no events, stage new.
func (j *batchJournal) addCustomer(id int64, publicID string) {
	j.customers[id] = &customerState{profile: &models.Profile{CustomerID: id, PublicID: publicID, Stage: models.StageNew}}
}

// state returns a loaded customer's state; recording only asks for those.
func (j *batchJournal) state(id int64) *customerState {
	c := j.customers[id]
	if c == nil {
		panic("webhooks: customer not loaded for this batch")
	}
	return c
}

// dbTime is t as the database keeps it (UTC, microseconds), so that what
// the batch compares matches what a fresh read would return.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// InsertEvent records an event unless the customer has its step already
// (the events' unique key); the step of another customer is found at flush.
func (j *batchJournal) InsertEvent(_ context.Context, r *store.EventRecord) (bool, error) {
	c := j.state(r.CustomerID)
	if slices.ContainsFunc(c.records, func(x store.EventRecord) bool { return x.StepKey == r.StepKey }) {
		return false, nil
	}
	r.ID = j.provisionalID()
	stored := *r
	j.newEvents = append(j.newEvents, &stored)
	rec := *r
	rec.OccurredAt, rec.ReceivedAt = dbTime(rec.OccurredAt), dbTime(rec.ReceivedAt)
	e, err := rec.Event()
	if err != nil {
		return true, err
	}
	i, _ := slices.BinarySearchFunc(c.records, rec, func(a, b store.EventRecord) int {
		return cmp.Or(a.OccurredAt.Compare(b.OccurredAt), cmp.Compare(a.ID, b.ID))
	})
	c.records = inserted(c.records, i, rec)
	c.history = inserted(c.history, i, e)
	j.eventAt[rec.ID] = rec.OccurredAt
	return true, nil
}

// AddOptOut stores an opt-out at once (the store's unique key decides);
// a memory journal decides alike, by category.
func (j *batchJournal) AddOptOut(ctx context.Context, shopID, customerID int64, category, source string) (bool, error) {
	c := j.state(customerID)
	o := models.OptOutRecord{Category: category, Source: source, CreatedAt: dbTime(j.now())}
	i, found := slices.BinarySearchFunc(c.optOuts, o, func(a, b models.OptOutRecord) int { return cmp.Compare(a.Category, b.Category) })
	if j.tx != nil {
		added, err := j.tx.AddOptOut(ctx, shopID, customerID, category, source)
		if err != nil || !added {
			return added, err
		}
	} else if found {
		return false, nil
	}
	c.optOuts = slices.Insert(c.optOuts, i, o)
	return true, nil
}

func (j *batchJournal) Journey(_ context.Context, customerID int64) ([]store.EventRecord, []models.Event, error) {
	c := j.state(customerID)
	return c.records, c.history, nil
}

// inserted returns a new slice of s with v at i, leaving s as it was.
func inserted[T any](s []T, i int, v T) []T {
	out := make([]T, len(s)+1)
	copy(out, s[:i])
	out[i] = v
	copy(out[i+1:], s[i:])
	return out
}

func (j *batchJournal) Profile(_ context.Context, customerID int64) (*models.Profile, error) {
	p := *j.state(customerID).profile
	return &p, nil
}

func (j *batchJournal) OptOuts(_ context.Context, customerID int64) ([]models.OptOutRecord, error) {
	return slices.Clone(j.state(customerID).optOuts), nil
}

// SaveProfile keeps the profile until flush writes the batch's profiles in
// one statement: a customer's later deliveries in the batch read it from here.
func (j *batchJournal) SaveProfile(_ context.Context, p *models.Profile) error {
	saved := *p
	c := j.state(p.CustomerID)
	c.profile, c.dirty = &saved, true
	return nil
}

// flush stores what the batch recorded and decided: events, then the
// actions (with their events' ids), the bookings (with their actions' ids),
// the cancellations and the profiles.
func (j *batchJournal) flush(ctx context.Context) error {
	ids := make(map[int64]int64, len(j.newEvents)+len(j.newActions)) // provisional → stored
	prov := make([]int64, len(j.newEvents))
	for i, r := range j.newEvents {
		prov[i], r.ID = r.ID, 0
	}
	if err := j.tx.InsertEvents(ctx, j.newEvents); err != nil {
		return err
	}
	for i, r := range j.newEvents {
		ids[prov[i]] = r.ID
	}
	actions := make([]*models.Action, len(j.newActions))
	for i, id := range j.newActions {
		a := *j.action(id)
		a.ID = 0
		if t, ok := ids[a.TriggerEventID]; ok {
			a.TriggerEventID = t
		}
		actions[i] = &a
	}
	if err := j.tx.InsertActions(ctx, actions); err != nil {
		return err
	}
	for i, id := range j.newActions {
		ids[id] = actions[i].ID
	}
	for i := range j.bookings {
		if id, ok := ids[j.bookings[i].ActionID]; ok {
			j.bookings[i].ActionID = id
		}
	}
	if err := j.tx.BookPoints(ctx, j.bookings); err != nil {
		return err
	}
	if err := j.flushCancels(ctx); err != nil {
		return err
	}
	j.stored = ids
	return j.flushProfiles(ctx)
}

// remember keeps the journal's customers' events in cache, as the committed
// transaction that flushed the journal left them.
func (j *batchJournal) remember(cache *JourneyCache, now time.Time) {
	if cache == nil || j == nil || j.tx == nil {
		return
	}
	for id, c := range j.customers {
		recs := c.records
		if slices.ContainsFunc(recs, func(r store.EventRecord) bool { return provisional(r.ID) }) {
			recs = slices.Clone(recs)
			for i := range recs {
				if provisional(recs[i].ID) {
					recs[i].ID = j.stored[recs[i].ID] // 0 when not flushed: put refuses it
				}
			}
		}
		cache.put(id, recs, c.history, now)
	}
}

// flushCancels cancels the stored actions the batch cancelled, one statement
// per reason; each must still have been open.
func (j *batchJournal) flushCancels(ctx context.Context) error {
	byReason := map[string][]int64{}
	for id, reason := range j.cancels {
		byReason[reason] = append(byReason[reason], id)
	}
	for _, reason := range slices.Sorted(maps.Keys(byReason)) {
		ids := byReason[reason]
		slices.Sort(ids)
		n, err := j.tx.CancelActions(ctx, ids, reason)
		if err != nil {
			return err
		}
		if n != int64(len(ids)) {
			return fmt.Errorf("cancel: %d of %d actions had left their state meanwhile", int64(len(ids))-n, len(ids))
		}
	}
	return nil
}

// flushProfiles writes the profiles changed in the batch.
func (j *batchJournal) flushProfiles(ctx context.Context) error {
	var ps []*models.Profile
	for _, c := range j.customers {
		if c.dirty {
			ps = append(ps, c.profile)
			c.dirty = false
		}
	}
	slices.SortFunc(ps, func(a, b *models.Profile) int { return cmp.Compare(a.CustomerID, b.CustomerID) })
	return j.tx.SaveProfiles(ctx, ps)
}

func (j *batchJournal) PointsBalance(_ context.Context, customerID int64) (int64, error) {
	var sum int64
	for _, l := range j.state(customerID).ledger {
		sum += l.Delta
	}
	return sum, nil
}

// PointsBalanceAsOf counts the bookings for events that happened at or
// before at, as store.PointsBalanceAsOf does.
func (j *batchJournal) PointsBalanceAsOf(_ context.Context, customerID int64, at time.Time) (int64, error) {
	var sum int64
	for _, l := range j.state(customerID).ledger {
		if l.EventAt != nil && !l.EventAt.After(at) {
			sum += l.Delta
		}
	}
	return sum, nil
}

func (j *batchJournal) ActionsDueSince(_ context.Context, customerID int64, since time.Time) ([]models.Action, error) {
	var out []models.Action
	for _, a := range j.state(customerID).actions {
		if !a.DueAt.Before(since) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (j *batchJournal) PendingActions(_ context.Context, customerID int64) ([]models.Action, error) {
	var out []models.Action
	for _, a := range j.state(customerID).actions {
		if a.Status.Pending() {
			out = append(out, a)
		}
	}
	return out, nil
}

func (j *batchJournal) RecentMarketing(_ context.Context, customerID int64, from, to time.Time) ([]time.Time, error) {
	var due []time.Time
	for i := range j.state(customerID).actions {
		if a := &j.state(customerID).actions[i]; a.CountsAgainstCap(from, to) {
			due = append(due, a.DueAt)
		}
	}
	return due, nil
}

// RecentMarketingAsOf mirrors store.RecentMarketingAsOf: actions without a
// known trigger event count; the others when their event happened at or
// before asOf and is not exceptEvent.
func (j *batchJournal) RecentMarketingAsOf(_ context.Context, customerID int64, from, to, asOf time.Time, exceptEvent int64) ([]time.Time, error) {
	var due []time.Time
	for i := range j.state(customerID).actions {
		a := &j.state(customerID).actions[i]
		if !a.CountsAgainstCap(from, to) {
			continue
		}
		if at, ok := j.eventAt[a.TriggerEventID]; ok && (at.After(asOf) || a.TriggerEventID == exceptEvent) {
			continue
		}
		due = append(due, a.DueAt)
	}
	return due, nil
}

// InsertAction plans an action unless the customer has one with its key
// (the key is scoped to the customer, so no other customer's can clash).
func (j *batchJournal) InsertAction(_ context.Context, a *models.Action) (bool, error) {
	c := j.state(a.CustomerID)
	if slices.ContainsFunc(c.actions, func(x models.Action) bool { return x.ShopID == a.ShopID && x.IdempotencyKey == a.IdempotencyKey }) {
		return false, nil
	}
	now := j.now()
	a.ID, a.PublicID, a.CreatedAt, a.UpdatedAt = j.provisionalID(), uuid.NewString(), now, now
	j.newActions = append(j.newActions, a.ID)
	saved := *a
	saved.DueAt = dbTime(saved.DueAt)
	i, _ := slices.BinarySearchFunc(c.actions, saved, byDue)
	c.actions = slices.Insert(c.actions, i, saved)
	j.owner[saved.ID] = saved.CustomerID
	return true, nil
}

// byDue is the order of a customer's actions, as the store lists them.
func byDue(x, y models.Action) int {
	return cmp.Or(x.DueAt.Compare(y.DueAt), cmp.Compare(x.ID, y.ID))
}

// action finds a loaded or new action by id. The pointer is valid until
// the customer's actions change order (InsertAction, Replan).
func (j *batchJournal) action(id int64) *models.Action {
	c, ok := j.customers[j.owner[id]]
	if !ok {
		return nil
	}
	for i := range c.actions {
		if c.actions[i].ID == id {
			return &c.actions[i]
		}
	}
	return nil
}

// CancelAction cancels an action the batch's state shows open; flush
// stores the cancellation and checks that the action was still open then.
// Anything else is answered as the store would answer it.
func (j *batchJournal) CancelAction(ctx context.Context, id int64, reason string) (bool, error) {
	a := j.action(id)
	_, cancelledHere := j.cancels[id]
	switch {
	case a != nil && a.Status.Cancellable():
		if !provisional(id) {
			j.cancels[id] = reason
		}
		a.Status, a.Reason = models.ActionCancelled, reason
		return true, nil
	case cancelledHere || (a != nil && provisional(id)) || j.tx == nil:
		return false, nil // not open: the store would find the same
	}
	// Not loaded, or not open as loaded: the store knows.
	ok, err := j.tx.CancelAction(ctx, id, reason)
	if ok && a != nil {
		a.Status, a.Reason = models.ActionCancelled, reason
	}
	return ok, err
}

func (j *batchJournal) ActionByKey(ctx context.Context, shopID int64, key string) (models.Action, error) {
	for _, c := range j.customers {
		for _, a := range c.actions {
			if a.ShopID == shopID && a.IdempotencyKey == key {
				return a, nil
			}
		}
	}
	if j.tx == nil {
		return models.Action{}, fmt.Errorf("action by key: %w", models.ErrNotFound)
	}
	return j.tx.ActionByKey(ctx, shopID, key)
}

// Replan changes a planned action's verdict: a new one in the batch's
// state, a stored one in the store at once (unless the batch cancelled it,
// which Replan's condition would find).
func (j *batchJournal) Replan(ctx context.Context, id int64, status models.ActionStatus, reason string, due time.Time) (bool, error) {
	a := j.action(id)
	_, cancelled := j.cancels[id]
	switch {
	case provisional(id) || cancelled || j.tx == nil:
		if a == nil || !a.Status.Replannable() {
			return false, nil
		}
	default:
		ok, err := j.tx.Replan(ctx, id, status, reason, due)
		if err != nil || !ok {
			return ok, err
		}
		j.budgetReplanned(a, status, due)
	}
	if a != nil {
		a.Status, a.Reason, a.DueAt = status, reason, dbTime(due)
		c := j.state(a.CustomerID)
		slices.SortFunc(c.actions, byDue)
	}
	return true, nil
}

// AddPoints books once per action, as the ledger's unique key does.
func (j *batchJournal) AddPoints(ctx context.Context, shopID, customerID, actionID, delta int64, reason string) error {
	c := j.state(customerID)
	if slices.ContainsFunc(c.ledger, func(l store.LedgerEntry) bool { return l.ActionID == actionID }) {
		return nil
	}
	j.bookings = append(j.bookings, store.Booking{ShopID: shopID, CustomerID: customerID, ActionID: actionID, Delta: delta, Reason: reason})
	l := store.LedgerEntry{CustomerID: customerID, ActionID: actionID, Delta: delta}
	if a := j.action(actionID); a != nil {
		if at, ok := j.eventAt[a.TriggerEventID]; ok {
			l.EventAt = &at
		}
	}
	c.ledger = append(c.ledger, l)
	return nil
}
