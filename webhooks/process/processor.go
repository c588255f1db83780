package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/reports"
)

// Planner plans loyalty actions for a newly recorded journey event, inside the
// same transaction that records it, so an acknowledged webhook never loses its
// actions and a replay never doubles them.
type Planner interface {
	Plan(ctx context.Context, tx PlanStore, in PlanInput) error
}

// PlanInput is what a Planner sees.
type PlanInput struct {
	Shop    *models.Shop
	Event   models.Event
	Record  *store.EventRecord
	Profile *models.Profile
	// History is the customer's whole journey, this event included, in
	// source-time order; Records are the stored rows, index for index.
	History []models.Event
	Records []store.EventRecord
	// PlanFrom, when set, marks events that happened before it as history
	// read from the shop's API: they plan only actions due from now on;
	// HistoricPoints books their past points actions as suppressed ones.
	PlanFrom       time.Time
	HistoricPoints bool
}

// Processor turns inbox deliveries into journey events and profiles. Several
// processors (one per replica) may run against one MySQL database: each
// batch claims its rows with SKIP LOCKED, and the customer rows are locked
// while their journeys are updated.
type Processor struct {
	Store     *store.Store
	Receivers map[models.Platform]plugin.Receiver
	Zones     *plugin.Zones // optional
	Planner   Planner       // optional
	Log       *slog.Logger
	Options   journey.Options
	BatchSize int
	// BacklogBatchSize bounds the batches taken while a backlog waits: after
	// a full batch the next takes twice as many, up to this (at least
	// BatchSize). A batch's fixed cost (claim, loads, commit) is then shared
	// by more deliveries, at the price of longer transactions.
	BacklogBatchSize int
	Poll             time.Duration
	// MaxAttempts bounds retries of a delivery that fails for a reason of its own.
	MaxAttempts int
	// OrderWait is how long a follow-up (payment, shipment, return, refund)
	// that names no shop customer id waits for its order before it is
	// resolved by e-mail or number; 0 means a minute, negative not at all.
	OrderWait time.Duration
	// Windows override reports.DefaultWindows for the outcome metric.
	Windows map[models.ActionType]time.Duration
	Now     func() time.Time
	Metrics *Metrics
	// StockPerHour paces back-in-stock notices: at most this many per hour
	// per SKU (0: DefaultStockPerHour); StockPage bounds the notices one
	// transaction records (0: DefaultStockPage). See stock.go.
	StockPerHour int
	StockPage    int
	// Journeys keeps customers' events between batches (nil: every batch
	// reads them). See JourneyCache.
	Journeys *JourneyCache

	// lastShop is the shop whose batch ran last (MySQL: see processUpTo).
	lastShop atomic.Int64
	// restocks says when to look for restock notices (see restocksDue).
	restocks restockHint
	recOnce  sync.Once
	rec      *Recorder
}

// Run processes until ctx is cancelled. Transient database faults are
// logged and retried after a pause; they never stop the loop.
//
// One loop per process: concurrent batches share customers (a customer's
// next step usually waits in the next batch), so they mostly wait for each
// other's locks; in BenchmarkProcessor four were three times slower than one.
func (p *Processor) Run(ctx context.Context) error {
	wait, size := p.Poll, p.BatchSize
	for {
		n, err := p.processUpTo(ctx, size)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			p.Log.WarnContext(ctx, "inbox batch failed; retrying", "err", err)
			wait = min(max(2*wait, p.Poll), 5*time.Second)
			size = p.BatchSize
		case n == size:
			size = min(2*size, max(p.BacklogBatchSize, p.BatchSize))
			continue // more may be waiting
		default:
			wait, size = p.Poll, p.BatchSize
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// errCareful aborts a batch processed without savepoints when one of its
// deliveries fails or its state proves out of date when stored: it is
// processed again, each delivery on its own savepoint.
var errCareful = errors.New("processing the batch again with savepoints")

// ProcessBatch claims and processes up to BatchSize due deliveries and
// returns how many it handled: in one transaction on SQLite, in one per shop
// on MySQL (see processUpTo).
//
// A batch first runs from state loaded for the whole batch, without
// savepoints, and stores its writes at its end; only when that fails is it
// rolled back and run again with a savepoint per delivery, so that a failing
// delivery is recorded and the rest still commits.
func (p *Processor) ProcessBatch(ctx context.Context) (int, error) {
	return p.processUpTo(ctx, p.BatchSize)
}

// processUpTo processes up to limit due deliveries. On MySQL every batch is
// one shop's (a store scoped with ForShop): on a keyspace sharded by shop
// (deploy/vitess) each transaction then stays on one shard. The shops are
// visited in turn, from the one after the shop visited last, so that a
// shop's backlog does not starve the others. SQLite, which no one shards,
// keeps one batch across shops.
func (p *Processor) processUpTo(ctx context.Context, limit int) (int, error) {
	p.Journeys.Sweep(p.Now())
	n, err := p.processShops(ctx, limit)
	if err == nil && p.restocks.due(p.Now()) {
		if err = p.notifyRestocks(ctx); err != nil {
			p.restocks.note() // look again next round
		}
	}
	return n, err
}

// processShops is processUpTo without the restocks' notices.
func (p *Processor) processShops(ctx context.Context, limit int) (int, error) {
	if p.Store.Driver() != "mysql" {
		return p.processShop(ctx, p.Store, limit)
	}
	ids, err := p.Store.ShopIDs(ctx)
	if err != nil {
		return 0, err
	}
	after := p.lastShop.Load()
	start, _ := slices.BinarySearch(ids, after+1)
	total := 0
	for i := range ids {
		id := ids[(start+i)%len(ids)]
		n, err := p.processShop(ctx, p.Store.ForShop(id), limit-total)
		total += n
		if err != nil {
			return total, err
		}
		p.lastShop.Store(id)
		if total >= limit {
			break
		}
	}
	return total, nil
}

// processShop processes up to limit due deliveries of st: one shop's on a
// scoped store, any shop's otherwise.
func (p *Processor) processShop(ctx context.Context, st *store.Store, limit int) (int, error) {
	var n int
	var done []time.Time
	var err error
	careful := false
	// Concurrent batches can deadlock on the unique indexes they insert into
	// (InnoDB picks one to roll back); that batch is simply run again.
	for try := 0; try < 4; try++ {
		n, done, err = p.processBatch(ctx, st, limit, careful)
		if errors.Is(err, errCareful) {
			p.Log.DebugContext(ctx, "inbox batch run again with savepoints", "err", err)
			if p.Metrics != nil {
				p.Metrics.Careful.Inc()
			}
			careful = true
			n, done, err = p.processBatch(ctx, st, limit, true)
		}
		if !errors.Is(err, store.ErrDeadlock) {
			break
		}
		if p.Metrics != nil {
			p.Metrics.Deadlocks.Inc()
		}
	}
	if err != nil {
		return 0, err
	}
	if p.Metrics != nil {
		now := p.Now()
		for _, r := range done {
			p.Metrics.ProcessLag.Observe(now.Sub(r).Seconds())
		}
		p.Metrics.Processed.Add(float64(len(done)))
		if n > 0 {
			p.Metrics.Batch.Observe(float64(n))
		}
	}
	return n, nil
}

func (p *Processor) processBatch(ctx context.Context, st *store.Store, limit int, careful bool) (n int, done []time.Time, err error) {
	unparsed := 0
	ctx, noted := withVerdicts(ctx)
	var flushed *batchJournal
	err = st.InTx(ctx, func(tx *store.Store) error {
		n, done, unparsed, flushed = 0, done[:0], 0, nil
		rewind(ctx, 0, 0)
		items, err := tx.ClaimInbox(ctx, limit)
		if err != nil {
			return err
		}
		work, err := p.prepare(ctx, tx, items)
		if err != nil {
			return err
		}
		if err := p.lockBudgets(ctx, tx, work); err != nil {
			return err
		}
		var j *batchJournal
		if !careful {
			if j, err = p.load(ctx, tx, work); err != nil {
				return err
			}
		}
		finished := make([]int64, 0, len(work))
		for i := range work {
			w := &work[i]
			err := w.err
			switch {
			case err != nil:
			case careful:
				err = p.applyItem(ctx, tx, w, "d"+strconv.Itoa(i))
			default:
				err = p.applyLoaded(ctx, j, w)
			}
			if err == nil {
				finished = append(finished, w.it.ID)
				done = append(done, w.it.ReceivedAt)
				n++
				continue
			}
			if errors.Is(err, errCareful) {
				return err
			}
			if errors.Is(err, models.ErrUnavailable) {
				return err // the whole batch is retried
			}
			if errors.Is(err, errShopRemoved) {
				// Accepted in the moment a shop cache still knew the shop:
				// its data goes with the shop.
				p.Log.InfoContext(ctx, "delivery of a removed shop deleted", "inbox_id", w.it.ID, "shop_id", w.it.ShopID)
				if err := tx.DeleteInbox(ctx, w.it.ID); err != nil {
					return err
				}
				n++
				continue
			}
			if unparsable(err) {
				// Parsing is pure: another attempt would fail alike.
				p.Log.WarnContext(ctx, "delivery stored unparsed", "inbox_id", w.it.ID, "shop_id", w.it.ShopID,
					"delivery_id", w.it.DeliveryID, "err", err)
				if err := tx.MarkUnparsed(ctx, w.it.ID, store.Truncate(err.Error(), 4000)); err != nil {
					return err
				}
				unparsed++
				n++
				continue
			}
			retryAt := time.Time{}
			if w.it.Attempts+1 < p.MaxAttempts {
				retryAt = p.Now().Add(time.Duration(1<<min(w.it.Attempts, 10)) * time.Second)
			}
			level := slog.LevelError
			if errors.Is(err, errOrderNotKnown) && !retryAt.IsZero() {
				level = slog.LevelInfo // the order's first event is on its way
			}
			p.Log.Log(ctx, level, "delivery could not be processed", "inbox_id", w.it.ID, "shop_id", w.it.ShopID,
				"delivery_id", w.it.DeliveryID, "attempt", w.it.Attempts+1, "final", retryAt.IsZero(), "err", err)
			if err := tx.FailInbox(ctx, w.it.ID, err.Error(), retryAt); err != nil {
				return err
			}
			n++
		}
		if j != nil {
			if err := j.flush(ctx); err != nil {
				return carefulUnless(err)
			}
			flushed = j
		}
		return tx.FinishInbox(ctx, finished...)
	})
	if err == nil {
		flushed.remember(p.Journeys, p.Now())
	}
	if err == nil && p.Metrics != nil {
		p.Metrics.Unparsed.Add(float64(unparsed))
		p.Metrics.count(noted)
	}
	return n, done, err
}

// unparsable reports whether err says a stored body cannot be parsed.
func unparsable(err error) bool {
	var me *models.MalformedError
	var ve *models.ValidationError
	return errors.As(err, &me) || errors.As(err, &ve)
}

// work is a claimed delivery, parsed.
type work struct {
	it     *models.Delivery
	shop   *models.Shop
	events []models.Event
	err    error // the delivery cannot be parsed
	key    string
	// customers are the events' customers, resolved by load (0: none).
	customers []int64
	// history limits what events read from the shop's API plan; the zero
	// value (every webhook) plans everything.
	history History
	// inserted counts the events this delivery added to journeys.
	inserted int
	// api marks an order read from the shop's API rather than a delivery.
	api bool
}

// prepare parses a batch and orders it by customer, so that concurrent
// batches lock customers in the same order and do not deadlock; a
// customer's deliveries keep their order.
func (p *Processor) prepare(ctx context.Context, tx *store.Store, items []models.Delivery) ([]work, error) {
	shops := map[int64]*models.Shop{}
	out := make([]work, len(items))
	for i := range items {
		w := &out[i]
		w.it = &items[i]
		shop := shops[w.it.ShopID]
		if shop == nil {
			var err error
			if shop, err = tx.ShopByID(ctx, w.it.ShopID); err != nil {
				if errors.Is(err, models.ErrUnavailable) {
					return nil, err
				}
				w.err = fmt.Errorf("shop %d: %w", w.it.ShopID, err)
				if errors.Is(err, models.ErrNotFound) {
					w.err = fmt.Errorf("shop %d: %w", w.it.ShopID, errShopRemoved)
				}
				continue
			}
			shops[w.it.ShopID] = shop
		}
		w.shop = shop
		w.events, w.err = p.parse(w.it, shop)
		if len(w.events) > 0 {
			w.key = strconv.FormatInt(shop.ID, 10) + "|" + lockKey(w.events[0])
		}
	}
	slices.SortStableFunc(out, func(a, b work) int { return strings.Compare(a.key, b.key) })
	return out, nil
}

// lockKey names the customer an event will lock, as far as the event tells.
func lockKey(e models.Event) string {
	switch {
	case !e.Data.Customer.Empty():
		return e.CustomerKey()
	case e.Data.Order != nil:
		return "order:" + e.Data.Order.ID
	}
	return ""
}

func (p *Processor) parse(it *models.Delivery, shop *models.Shop) ([]models.Event, error) {
	recv, ok := p.Receivers[models.Platform(it.Platform)]
	if !ok {
		return nil, fmt.Errorf("platform %s is not enabled", it.Platform)
	}
	h, err := store.DecodeHeaders(it.Headers)
	if err != nil {
		return nil, err
	}
	parsed, err := recv.Parse(&plugin.Delivery{Header: h, Body: it.Body, ShopKey: shop.Key, ReceivedAt: it.ReceivedAt, Location: p.Zones.Of(shop)})
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	return parsed.Events, nil
}

// load resolves and locks the customers of a batch (in the order prepare
// sorted them) and loads their journeys, for the batch run without
// savepoints. It answers errCareful when the batch needs the careful run:
// an erasure request (it changes journeys behind the loaded state), an event
// whose order is not known yet, or a conflict with a concurrent batch.
func (p *Processor) load(ctx context.Context, tx *store.Store, work []work) (*batchJournal, error) {
	// The customers of all events are resolved together, in the batch's order.
	type at struct{ w, k int }
	var keys []store.CustomerKey
	var keyed []at
	for i := range work {
		w := &work[i]
		if w.err != nil {
			continue
		}
		w.customers = make([]int64, len(w.events))
		for k, e := range w.events {
			switch {
			case e.Type == models.CustomerRedactRequested || e.Type == models.ShopRedactRequested:
				return nil, errCareful
			case e.Type == models.ProductStockChanged:
				return nil, errCareful // a shop event, whoever it names: recorded by record (stock.go)
			case names(e):
				keys = append(keys, p.customerKey(w, e))
				keyed = append(keyed, at{i, k})
			default:
				p.Log.InfoContext(ctx, "event without customer", "inbox_id", w.it.ID, "type", e.Type)
			}
		}
	}
	resolved, err := tx.ResolveCustomers(ctx, keys)
	if err != nil {
		return nil, carefulUnless(err)
	}
	for n, a := range keyed {
		w := &work[a.w]
		if resolved[n] == 0 && w.err == nil {
			// The delivery waits for its order, and records nothing meanwhile.
			w.err = orderNotKnown(w.events[a.k])
		}
		w.customers[a.k] = resolved[n]
	}
	var ids []int64
	seen := map[int64]bool{}
	for i := range work {
		w := &work[i]
		if w.err != nil {
			continue
		}
		for _, id := range w.customers {
			if id != 0 && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	j, err := loadBatchJournal(ctx, tx, ids, p.Journeys)
	if err != nil {
		return nil, carefulUnless(err)
	}
	return j, nil
}

// applyLoaded records a delivery's events through the batch's journal.
func (p *Processor) applyLoaded(ctx context.Context, j *batchJournal, w *work) error {
	for k, e := range w.events {
		if w.customers[k] == 0 {
			continue
		}
		if err := p.appendEvent(ctx, j, w, e, w.customers[k]); err != nil {
			return carefulUnless(err)
		}
	}
	return nil
}

// carefulUnless turns an error of the run without savepoints into
// errCareful, except the faults that the careful run would meet as well (a
// lost connection) or that need the whole transaction again (a deadlock).
func carefulUnless(err error) error {
	if errors.Is(err, errCareful) || errors.Is(err, store.ErrDeadlock) || (errors.Is(err, models.ErrUnavailable) && !errors.Is(err, store.ErrRetry)) {
		return err
	}
	return fmt.Errorf("%w: %w", errCareful, err)
}

// applyItem records a delivery's events on a savepoint, undone when it
// fails. A conflict with a concurrent transaction (two processors creating
// the same new customer) is retried once: by then the other has committed.
func (p *Processor) applyItem(ctx context.Context, tx *store.Store, w *work, sp string) error {
	apply := func() error {
		for _, e := range w.events {
			if err := p.record(ctx, tx, w, e); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	planned, cancelled := mark(ctx)
	for try := 0; try < 2; try++ {
		if err := tx.Savepoint(sp); err != nil {
			return err
		}
		if err = apply(); err == nil {
			return nil
		}
		if errors.Is(err, models.ErrUnavailable) && !errors.Is(err, store.ErrRetry) {
			return err // a deadlock rolled the whole transaction back, or the connection is gone
		}
		if rerr := tx.RollbackTo(sp); rerr != nil {
			return fmt.Errorf("%w (after: %w)", rerr, err)
		}
		rewind(ctx, planned, cancelled)
		if !errors.Is(err, store.ErrRetry) {
			return err
		}
	}
	return err
}

// record appends one event to its customer's journey and refreshes the
// profile, reading everything from the store.
func (p *Processor) record(ctx context.Context, tx *store.Store, w *work, e models.Event) error {
	shop, it := w.shop, w.it
	switch e.Type {
	case models.CustomerRedactRequested:
		return p.eraseRequested(ctx, tx, shop, it, e)
	case models.ShopRedactRequested:
		return p.eraseShop(ctx, tx, shop)
	case models.ProductStockChanged:
		return p.stockChanged(ctx, tx, w, e)
	}
	custID, err := p.resolve(ctx, tx, w, e)
	if err != nil || custID == 0 {
		return err
	}
	return p.appendEvent(ctx, tx, w, e, custID)
}

// resolve finds and locks the customer an event belongs to; 0 when the
// event names none.
func (p *Processor) resolve(ctx context.Context, tx *store.Store, w *work, e models.Event) (int64, error) {
	it := w.it
	if !names(e) {
		// A shop-wide request (shop/redact) names no customer; nothing to append.
		p.Log.InfoContext(ctx, "event without customer", "inbox_id", it.ID, "type", e.Type)
		return 0, nil
	}
	ids, err := tx.ResolveCustomers(ctx, []store.CustomerKey{p.customerKey(w, e)})
	if err != nil {
		return 0, err
	}
	if ids[0] == 0 {
		return 0, orderNotKnown(e)
	}
	return ids[0], nil
}

// names reports whether an event names a customer, directly or through its order.
func names(e models.Event) bool {
	return !e.Data.Customer.Empty() || (e.Data.Order != nil && e.Data.Order.ID != "")
}

// defaultOrderWait is how long a follow-up that names its customer only by
// e-mail or number waits for its order. Senders deliver an order's topics
// concurrently (Shopify's fulfillments/create can overtake orders/create);
// resolved by the e-mail at once, such a follow-up would start a second
// customer whenever the order's e-mail differs from the account's.
const defaultOrderWait = time.Minute

// customerKey is how the store resolves an event's customer: by its order
// where Treue knows the order, else by the identities it names.
func (p *Processor) customerKey(w *work, e models.Event) store.CustomerKey {
	shop, it := w.shop, w.it
	k := store.CustomerKey{ShopID: shop.ID, Ref: e.Data.Customer}
	if e.Data.Order != nil {
		k.Order = store.Truncate(e.Data.Order.ID, 191) // as the event's order_ref is stored
	}
	wait := p.OrderWait
	if wait == 0 {
		wait = defaultOrderWait
	}
	// An order read from the API comes whole, its first step included, so
	// nothing of it is on its way.
	k.WaitForOrder = !w.api && e.Type.FollowsOrder() && e.Data.Customer.ID == "" && p.Now().Sub(it.ReceivedAt) < wait
	return k
}

// errShopRemoved marks a delivery whose shop no longer exists.
var errShopRemoved = errors.New("the shop was removed")

// errOrderNotKnown marks a delivery that waits for its order's first event;
// it is retried with backoff until that has arrived.
var errOrderNotKnown = fmt.Errorf("order is not known yet: %w", models.ErrNotFound)

func orderNotKnown(e models.Event) error {
	return fmt.Errorf("order %s: %w", e.Data.Order.ID, errOrderNotKnown)
}

// appendEvent records an event of customer custID, refreshes the profile
// and plans the actions.
func (p *Processor) appendEvent(ctx context.Context, j Journal, w *work, e models.Event, custID int64) error {
	shop, it := w.shop, w.it
	e, err := withRefundCurrency(ctx, j, shop, custID, e)
	if err != nil {
		return err
	}
	data, err := eventData(e)
	if err != nil {
		return err
	}
	rec := &store.EventRecord{
		ShopID: shop.ID, CustomerID: custID, Type: string(e.Type), StepKey: store.Truncate(e.StepKey(), 255),
		OccurredAt: e.OccurredAt(), ReceivedAt: it.ReceivedAt, Platform: it.Platform,
		InboxID: it.ID, DeliveryID: it.DeliveryID, Data: data,
	}
	rec.Describe(&e)
	inserted, err := p.recorder().Record(ctx, j, Entry{Shop: shop, Event: e, Record: rec, History: w.history})
	if inserted {
		w.inserted++
	}
	if err == nil && inserted && e.Type.StockEvent() {
		p.restocks.note()
		err = recordSubscription(ctx, j, shop.ID, custID, e)
	}
	if err == nil && inserted && e.Type == models.CustomerDataRequested {
		// The request is now on the customer's timeline; the data itself is
		// exported by the merchant (GET …/export, treue customers export).
		p.Log.InfoContext(ctx, "customer data request recorded", "shop", shop.Key, "inbox_id", it.ID)
	}
	return err
}

// recorder is the processor's Recorder, made on first use.
func (p *Processor) recorder() *Recorder {
	p.recOnce.Do(func() {
		p.rec = &Recorder{Planner: p.Planner, Options: p.Options, Now: p.Now, Observe: p.countOutcome}
	})
	return p.rec
}

// countOutcome counts an order or a review for the action it is attributed to.
func (p *Processor) countOutcome(ctx context.Context, j Journal, shop *models.Shop, e models.Event, custID int64) error {
	if p.Metrics == nil || p.Metrics.Outcomes == nil {
		return nil
	}
	var only func(*models.Action) bool
	switch {
	case e.Type == models.OrderPlaced && e.Data.Order != nil && !e.Data.Order.Test:
	case e.Type == models.ReviewSubmitted:
		only = func(a *models.Action) bool { return a.Type == models.ActionReviewRequest }
	default:
		return nil
	}
	at := e.OccurredAt()
	acts, err := j.ActionsDueSince(ctx, custID, at.Add(-maxAttribution))
	if err != nil {
		return err
	}
	if a := reports.LastTouch(acts, at, p.Windows, only); a != nil {
		outcome := "order"
		if e.Type == models.ReviewSubmitted {
			outcome = "review"
		}
		p.Metrics.Outcomes.WithLabelValues(shop.Key, a.RuleID, outcome).Inc()
	}
	return nil
}

// maxAttribution bounds how far back an outcome looks for its action.
const maxAttribution = 366 * 24 * time.Hour

// eraseRequested erases the customer a shop's redact request names (Shopify
// customers/redact); a customer Treue never saw needs nothing. The log says
// which identity matched, or why none did, and no personal data.
func (p *Processor) eraseRequested(ctx context.Context, tx *store.Store, shop *models.Shop, it *models.Delivery, e models.Event) error {
	m, err := tx.FindCustomer(ctx, shop.ID, e.Data.Customer)
	if err != nil {
		return err
	}
	if m.CustomerID == 0 {
		p.Log.InfoContext(ctx, "erasure request matched no customer", "shop", shop.Key, "inbox_id", it.ID, "refused", m.Refused)
		return nil
	}
	er, err := tx.EraseCustomer(ctx, shop.ID, m.CustomerID, "shop:"+string(shop.Platform))
	if err != nil {
		return err
	}
	p.Log.InfoContext(ctx, "customer erased on the shop's request", "shop", shop.Key, "inbox_id", it.ID,
		"matched_by", m.By, "erasure_id", er.ID)
	return nil
}

// eraseShop erases every customer of a shop (Shopify shop/redact, sent after
// the app was uninstalled).
func (p *Processor) eraseShop(ctx context.Context, tx *store.Store, shop *models.Shop) error {
	ids, err := tx.ShopCustomerIDs(ctx, shop.ID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := tx.EraseCustomer(ctx, shop.ID, id, "shop:"+string(shop.Platform)); err != nil {
			return err
		}
	}
	p.Log.InfoContext(ctx, "shop data erased on the shop's request", "shop", shop.Key, "customers", len(ids))
	return nil
}
