package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/rules"
)

// cartState is rules.CartFromEvents over a journey's first records.
func cartState(recs []store.EventRecord, history []models.Event) *rules.CartState {
	ids := make([]int64, len(recs))
	for i := range recs {
		ids[i] = recs[i].ID
	}
	return rules.CartFromEvents(ids, history)
}

// CartPass records cart.abandoned for the carts that became abandoned:
// each pass finds the customers with a cart update between Lookback and
// After ago, and derives from each one's journey (journey.AbandonedCarts)
// the abandonments due, which it records through the processor's
// Recorder, so that they plan as any event does. An abandonment is keyed
// by its cart and the update it follows: a second pass, or a second
// replica, records nothing new; a named lock lets one replica pass at a
// time, and the customer row is locked as the processor locks it.
//
// Reading every customer of the last Lookback each minute would load a
// busy shop's day of carts every minute, so only a full pass (the first of
// a process, then one an hour) reads the whole Lookback; the passes in
// between read the updates whose abandonment fell due since the previous
// pass. A cart update that arrives late (a sender's retries) with a time
// before that is found by the next full pass.
type CartPass struct {
	Processor *Processor
	After     time.Duration
	Lookback  time.Duration
	Every     time.Duration
	Log       *slog.Logger

	// prev is when the previous pass of this process ran, full when its
	// last full pass did; zero before the first.
	prev, full time.Time
}

// fullEvery is how often a pass reads the whole Lookback.
const fullEvery = time.Hour

// cartSlack widens an incremental pass's window by what clocks of two
// replicas, and a pass's own run, may differ by.
const cartSlack = 5 * time.Minute

// Run passes at start and then every c.Every until ctx ends; After 0 does nothing.
func (c *CartPass) Run(ctx context.Context) {
	if c.After <= 0 {
		return
	}
	for {
		if n, err := c.Pass(ctx); err != nil && ctx.Err() == nil {
			c.Log.WarnContext(ctx, "cart pass failed; retrying next round", "recorded", n, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(c.Every):
		}
	}
}

// Pass records the abandonments due now and returns how many it recorded.
func (c *CartPass) Pass(ctx context.Context) (int, error) {
	p := c.Processor
	release, ok, err := p.Store.TryLock(ctx, "treue_carts")
	if err != nil || !ok {
		return 0, err
	}
	defer release()
	ids, err := p.Store.ShopIDs(ctx)
	if err != nil {
		return 0, err
	}
	now := p.Now()
	from := now.Add(-c.After - c.Lookback)
	isFull := c.full.IsZero() || now.Sub(c.full) >= fullEvery
	if !isFull {
		if since := c.prev.Add(-c.After - cartSlack); since.After(from) {
			from = since
		}
	}
	n := 0
	for _, id := range ids {
		shop, err := p.Store.ShopByID(ctx, id)
		if errors.Is(err, models.ErrNotFound) {
			continue // removed since
		}
		if err != nil {
			return n, err
		}
		st := p.Store.ForShop(id)
		custs, err := st.CartCustomers(ctx, id, from, now.Add(-c.After).Add(time.Nanosecond))
		if err != nil {
			return n, fmt.Errorf("cart pass: %w", err)
		}
		for _, cust := range custs {
			k, err := c.abandon(ctx, st, shop, cust, now)
			n += k
			if err != nil {
				return n, fmt.Errorf("cart pass: customer %d: %w", cust, err)
			}
		}
	}
	c.prev = now
	if isFull {
		c.full = now
	}
	return n, nil
}

func (c *CartPass) abandon(ctx context.Context, st *store.Store, shop *models.Shop, customerID int64, now time.Time) (int, error) {
	n := 0
	ctx, noted := withVerdicts(ctx)
	err := st.InTx(ctx, func(tx *store.Store) error {
		n = 0
		rewind(ctx, 0, 0)
		if err := tx.LockCustomer(ctx, customerID); err != nil {
			return err
		}
		_, history, err := tx.Journey(ctx, customerID)
		if err != nil {
			return err
		}
		for _, e := range journey.AbandonedCarts(history, now, c.After, c.Lookback) {
			data, err := eventData(e)
			if err != nil {
				return err
			}
			step := store.Truncate(e.StepKey(), 255)
			rec := &store.EventRecord{
				ShopID: shop.ID, CustomerID: customerID, Type: string(e.Type), StepKey: step,
				OccurredAt: e.OccurredAt(), ReceivedAt: now, Platform: DerivedPlatform,
				DeliveryID: store.Truncate("derived:"+step, 191), Data: data,
			}
			rec.Describe(&e)
			inserted, err := c.Processor.recorder().Record(ctx, tx, Entry{Shop: shop, Event: e, Record: rec})
			if err != nil {
				return err
			}
			if inserted {
				n++
			}
		}
		return nil
	})
	if err == nil {
		c.Processor.Metrics.count(noted)
	}
	return n, err
}

// DerivedPlatform is the platform of events Treue derives itself
// (cart.abandoned): no shop delivered them.
const DerivedPlatform = "treue"
