package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/plugin"
)

// Planner plans loyalty actions for a newly recorded journey event, inside the
// same transaction that records it, so an acknowledged webhook never loses its
// actions and a replay never doubles them.
type Planner interface {
	Plan(ctx context.Context, tx *store.Store, in PlanInput) error
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
}

// Processor turns inbox deliveries into journey events and profiles. Several
// processors (one per replica) may run against one MySQL database: each batch
// claims its rows with SKIP LOCKED, and the customer row is locked while its
// journey is updated.
type Processor struct {
	Store     *store.Store
	Receivers map[models.Platform]plugin.Receiver
	Planner   Planner // optional
	Log       *slog.Logger
	Options   journey.Options
	BatchSize int
	Poll      time.Duration
	// MaxAttempts bounds retries of a delivery that fails for a reason of its own.
	MaxAttempts int
	Now         func() time.Time
	Metrics     *Metrics
}

// Run processes until ctx is cancelled. Transient database faults are logged
// and retried after a pause; they never stop the loop.
func (p *Processor) Run(ctx context.Context) error {
	wait := p.Poll
	for {
		n, err := p.ProcessBatch(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			p.Log.WarnContext(ctx, "inbox batch failed; retrying", "err", err)
			wait = min(max(2*wait, p.Poll), 5*time.Second)
		case n == p.BatchSize:
			continue // more may be waiting
		default:
			wait = p.Poll
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// ProcessBatch claims and processes up to BatchSize due deliveries in one
// transaction and returns how many it handled.
func (p *Processor) ProcessBatch(ctx context.Context) (int, error) {
	var n int
	var done []time.Time
	err := p.Store.InTx(ctx, func(tx *store.Store) error {
		n, done = 0, done[:0]
		items, err := tx.ClaimInbox(ctx, p.BatchSize)
		if err != nil {
			return err
		}
		shops := map[int64]*models.Shop{}
		for i := range items {
			it := &items[i]
			sp := "d" + strconv.Itoa(i)
			if err := tx.Savepoint(sp); err != nil {
				return err
			}
			err := p.apply(ctx, tx, it, shops)
			if err == nil {
				if err := tx.FinishInbox(ctx, it.ID); err != nil {
					return err
				}
				n++
				done = append(done, it.ReceivedAt)
				continue
			}
			if errors.Is(err, models.ErrUnavailable) {
				return err // the whole batch is retried
			}
			if err := tx.RollbackTo(sp); err != nil {
				return err
			}
			retryAt := time.Time{}
			if it.Attempts+1 < p.MaxAttempts {
				retryAt = p.Now().Add(time.Duration(1<<min(it.Attempts, 10)) * time.Second)
			}
			p.Log.ErrorContext(ctx, "delivery could not be processed", "inbox_id", it.ID, "shop_id", it.ShopID,
				"delivery_id", it.DeliveryID, "attempt", it.Attempts+1, "final", retryAt.IsZero(), "err", err)
			if err := tx.FailInbox(ctx, it.ID, err.Error(), retryAt); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if p.Metrics != nil {
		now := p.Now()
		for _, r := range done {
			p.Metrics.ProcessLag.Observe(now.Sub(r).Seconds())
		}
		p.Metrics.Processed.Add(float64(len(done)))
	}
	return n, nil
}

func (p *Processor) apply(ctx context.Context, tx *store.Store, it *store.InboxItem, shops map[int64]*models.Shop) error {
	shop := shops[it.ShopID]
	if shop == nil {
		var err error
		if shop, err = tx.ShopByID(ctx, it.ShopID); err != nil {
			return fmt.Errorf("shop %d: %w", it.ShopID, err)
		}
		shops[it.ShopID] = shop
	}
	recv, ok := p.Receivers[models.Platform(it.Platform)]
	if !ok {
		return fmt.Errorf("platform %s is not enabled", it.Platform)
	}
	h, err := store.DecodeHeaders(it.Headers)
	if err != nil {
		return err
	}
	parsed, err := recv.Parse(&plugin.Delivery{Header: h, Body: it.Body, ShopKey: shop.Key, ReceivedAt: it.ReceivedAt})
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	for _, e := range parsed.Events {
		if err := p.record(ctx, tx, shop, it, e); err != nil {
			return err
		}
	}
	return nil
}

// record appends one event to its customer's journey and refreshes the profile.
func (p *Processor) record(ctx context.Context, tx *store.Store, shop *models.Shop, it *store.InboxItem, e models.Event) error {
	switch e.Type {
	case models.CustomerRedactRequested:
		return p.eraseRequested(ctx, tx, shop, e)
	case models.ShopRedactRequested:
		return p.eraseShop(ctx, tx, shop)
	}
	var custID int64
	var err error
	switch {
	case !e.Data.Customer.Empty():
		custID, _, err = tx.ResolveCustomer(ctx, shop.ID, e.Data.Customer)
	case e.Data.Order != nil && e.Data.Order.ID != "":
		custID, _, err = tx.CustomerByOrder(ctx, shop.ID, e.Data.Order.ID)
		if errors.Is(err, models.ErrNotFound) {
			// The order's first event has not arrived yet; the delivery is
			// retried with backoff until it has.
			return fmt.Errorf("order %s is not known yet: %w", e.Data.Order.ID, err)
		}
	default:
		// A shop-wide request (shop/redact) names no customer; nothing to append.
		p.Log.InfoContext(ctx, "event without customer", "inbox_id", it.ID, "type", e.Type)
		return nil
	}
	if err != nil {
		return err
	}
	data, err := eventData(e)
	if err != nil {
		return err
	}
	rec := &store.EventRecord{
		ShopID: shop.ID, CustomerID: custID, Type: string(e.Type), StepKey: truncate(e.StepKey(), 255),
		OccurredAt: e.OccurredAt(), ReceivedAt: it.ReceivedAt, Platform: it.Platform,
		InboxID: it.ID, DeliveryID: it.DeliveryID, Data: data,
	}
	if e.Data.Order != nil {
		rec.OrderRef = truncate(e.Data.Order.ID, 191)
	}
	inserted, err := tx.InsertEvent(ctx, rec)
	if err != nil || !inserted {
		return err // a step already recorded (another topic, a replay) changes nothing
	}
	if e.Type == models.CategoryOptedOut {
		if _, err := tx.AddOptOut(ctx, shop.ID, custID, e.Data.OptOut.Category, it.Platform); err != nil {
			return err
		}
	}
	if e.Type == models.CustomerDataRequested {
		// The request is now on the customer's timeline; the data itself is
		// exported by the merchant (GET …/export, treue customers export).
		p.Log.InfoContext(ctx, "customer data request recorded", "shop", shop.Key, "inbox_id", it.ID)
	}
	prof, history, recs, err := rebuildProfile(ctx, tx, custID, p.Now(), p.Options)
	if err != nil {
		return err
	}
	if p.Planner != nil {
		return p.Planner.Plan(ctx, tx, PlanInput{Shop: shop, Event: e, Record: rec, Profile: prof, History: history, Records: recs})
	}
	return nil
}

// rebuildProfile derives a customer's profile from their whole journey and
// stores it; it returns the profile and the journey.
func rebuildProfile(ctx context.Context, tx *store.Store, customerID int64, now time.Time, opts journey.Options) (*models.Profile, []models.Event, []store.EventRecord, error) {
	recs, err := tx.CustomerEvents(ctx, customerID)
	if err != nil {
		return nil, nil, nil, err
	}
	history := make([]models.Event, 0, len(recs))
	for i := range recs {
		e, err := recs[i].Event()
		if err != nil {
			return nil, nil, nil, err
		}
		history = append(history, e)
	}
	prev, err := tx.Profile(ctx, customerID)
	if err != nil {
		return nil, nil, nil, err
	}
	prof := journey.Build(history, now, opts)
	prof.CustomerID, prof.PublicID = customerID, prev.PublicID
	// Opt-outs come from the shop's events and from the API (which can also
	// undo them), so the table is their record.
	optOuts, err := tx.OptOuts(ctx, customerID)
	if err != nil {
		return nil, nil, nil, err
	}
	prof.OptedOutCategories = make([]string, len(optOuts))
	for i, o := range optOuts {
		prof.OptedOutCategories[i] = o.Category
	}
	// Points, tier and referral data are kept by the action side, not derived here.
	prof.PointsBalance, prof.Tier, prof.ReferralCode, prof.Holdout = prev.PointsBalance, prev.Tier, prev.ReferralCode, prev.Holdout
	if err := tx.SaveProfile(ctx, &prof); err != nil {
		return nil, nil, nil, err
	}
	return &prof, history, recs, nil
}

// eraseRequested erases the customer a shop's redact request names (Shopify
// customers/redact); a customer Treue never saw needs nothing.
func (p *Processor) eraseRequested(ctx context.Context, tx *store.Store, shop *models.Shop, e models.Event) error {
	id, found, err := tx.FindCustomer(ctx, shop.ID, e.Data.Customer)
	if err != nil || !found {
		return err
	}
	er, err := tx.EraseCustomer(ctx, shop.ID, id, "shop:"+string(shop.Platform))
	if err != nil {
		return err
	}
	p.Log.InfoContext(ctx, "customer erased on the shop's request", "shop", shop.Key, "erasure_id", er.ID)
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
