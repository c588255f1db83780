package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/plugin"
)

// StockReaders finds the stock reader of a shop; false when its platform
// has none (its stock levels come as product.stock_changed).
type StockReaders func(shop *models.Shop) (plugin.StockReader, bool)

// StockLookups reads the stock levels that webhooks announced without them
// (Shopware's product.written, Shopify's inventory_levels/update) from the
// shops' APIs and records each as a product.stock_changed, on the path the
// other platforms' levels take (stockChanged). It runs beside the inbox
// processor, so no processing transaction waits on a shop's API. A level
// is dated by its read: it is the level of that moment, and an older one
// arriving later changes nothing, as a newer read is never undone by a
// stale one. A lookup stays stored until it is read or cannot be (the
// product deleted, the permission missing), so a restart loses none;
// failures worth another try wait longer each time.
type StockLookups struct {
	Processor *Processor
	Readers   StockReaders
	Every     time.Duration
	Batch     int
	Log       *slog.Logger
}

// Backoff of failed reads: the first retry after stockRetryMin, doubling up
// to stockRetryMax; after stockMaxAttempts the lookup is given up.
const (
	stockRetryMin    = 10 * time.Second
	stockRetryMax    = time.Hour
	stockMaxAttempts = 20
)

// Run reads the due lookups every s.Every until ctx ends.
func (s *StockLookups) Run(ctx context.Context) {
	for {
		if _, err := s.Pass(ctx); err != nil && ctx.Err() == nil {
			s.Log.WarnContext(ctx, "stock lookups failed; retrying next round", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.Every):
		}
	}
}

// Pass reads the lookups due now, one replica at a time, and returns how
// many levels it recorded.
func (s *StockLookups) Pass(ctx context.Context) (int, error) {
	p := s.Processor
	release, ok, err := p.Store.TryLock(ctx, "treue_stock_lookups")
	if err != nil || !ok {
		return 0, err
	}
	defer release()
	// On MySQL shop by shop, as notifyRestocks does, so that each query
	// stays on one shop's shard.
	if p.Store.Driver() != "mysql" {
		return s.passOf(ctx, p.Store)
	}
	ids, err := p.Store.ShopIDs(ctx)
	if err != nil {
		return 0, err
	}
	recorded := 0
	for _, id := range ids {
		n, err := s.passOf(ctx, p.Store.ForShop(id))
		recorded += n
		if err != nil {
			return recorded, err
		}
	}
	return recorded, nil
}

// passOf reads the due lookups of st (one shop's on a scoped store, any
// shop's otherwise).
func (s *StockLookups) passOf(ctx context.Context, st *store.Store) (int, error) {
	batch := s.Batch
	if batch <= 0 {
		batch = 50
	}
	recorded := 0
	for ctx.Err() == nil {
		due, err := st.DueStockLookups(ctx, s.Processor.Now(), batch)
		if err != nil || len(due) == 0 {
			return recorded, err
		}
		for _, l := range due {
			ok, err := s.lookup(ctx, l)
			if err != nil {
				return recorded, err
			}
			if ok {
				recorded++
			}
		}
		if len(due) < batch {
			return recorded, nil
		}
	}
	return recorded, nil
}

// lookup reads one level and records it; false when it was not read.
// Errors are the store's; the shop's failures are handled here.
func (s *StockLookups) lookup(ctx context.Context, l store.StockLookup) (bool, error) {
	p := s.Processor
	st := p.Store.ForShop(l.ShopID)
	shop, err := st.ShopByID(ctx, l.ShopID)
	if errors.Is(err, models.ErrNotFound) {
		return false, st.FinishStockLookup(ctx, l)
	}
	if err != nil {
		return false, err
	}
	rd, ok := s.Readers(shop)
	if !ok {
		s.Log.WarnContext(ctx, "stock lookup dropped: the shop's connector cannot read stock", "shop", shop.Key, "ref", l.Ref)
		return false, st.FinishStockLookup(ctx, l)
	}
	at := p.Now().UTC()
	level, err := rd.ReadStock(ctx, shop, l.Ref)
	var pe *plugin.Error
	switch {
	case err == nil:
	case errors.As(err, &pe) && pe.Kind == plugin.Permanent, l.Attempts+1 >= stockMaxAttempts:
		s.Log.WarnContext(ctx, "stock lookup dropped", "shop", shop.Key, "ref", l.Ref, "attempts", l.Attempts+1, "err", err)
		return false, st.FinishStockLookup(ctx, l)
	default:
		wait := min(stockRetryMin<<min(l.Attempts, 12), stockRetryMax)
		if pe != nil && pe.RetryAfter > wait {
			wait = pe.RetryAfter
		}
		s.Log.InfoContext(ctx, "stock lookup failed; retrying", "shop", shop.Key, "ref", l.Ref, "attempts", l.Attempts+1, "retry_in", wait, "err", err)
		return false, st.RetryStockLookup(ctx, l, at.Add(wait))
	}
	e := models.Event{Type: models.ProductStockChanged, Timestamp: at,
		Data: models.EventData{Product: &models.ProductStock{SKU: level.SKU, Stock: level.Stock, At: &at}}}
	if err := e.Validate(); err != nil {
		s.Log.WarnContext(ctx, "stock lookup dropped: the level read is not valid", "shop", shop.Key, "ref", l.Ref, "err", err)
		return false, st.FinishStockLookup(ctx, l)
	}
	if err := p.recordStockLevel(ctx, shop, e, l); err != nil {
		return false, fmt.Errorf("stock of %s in shop %s: %w", level.SKU, shop.Key, err)
	}
	return true, nil
}

// recordStockLevel records a product.stock_changed read from a shop's API
// as a delivery's is recorded (stockChanged), and finishes the lookup that
// asked for it, in one transaction: a crash between the two reads it again,
// which changes nothing.
func (p *Processor) recordStockLevel(ctx context.Context, shop *models.Shop, e models.Event, l store.StockLookup) error {
	st := p.Store
	if st.Driver() == "mysql" {
		st = st.ForShop(shop.ID)
	}
	w := &work{it: &models.Delivery{ShopID: shop.ID, Platform: string(shop.Platform), DeliveryID: "stock-lookup:" + l.Ref, ReceivedAt: p.Now()}, shop: shop}
	ctx, noted := withVerdicts(ctx)
	err := st.InTx(ctx, func(tx *store.Store) error {
		rewind(ctx, 0, 0)
		if err := p.stockChanged(ctx, tx, w, e); err != nil {
			return err
		}
		return tx.FinishStockLookup(ctx, l)
	})
	if err == nil {
		p.Metrics.count(noted)
		// stockChanged noted the level inside the transaction, but this runs
		// beside the processor's loop, which may have taken that note and
		// looked for restocks before the commit made this one visible: note
		// it again now that it is, or its notices would wait for the
		// minute's recheck.
		p.restocks.note()
	}
	return err
}
