package process

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

// Back-in-stock notices. A stock level (product.stock_changed) is a shop
// event: it updates the SKU's row in product_stock, in the processing
// transaction, and never joins a journey. A restock (0 → available, by
// source time) leaves its queue of subscriptions to notifyRestocks, which
// records one stock.available per subscription in pages, each its own
// transaction, so a SKU with thousands of subscribers does not hold one
// giant transaction. The notices are ordinary journey events: rules answer
// them, the timeline shows them, and `rules simulate` replays them.

// Defaults of the pacing and of the page size.
const (
	DefaultStockPerHour = 100
	DefaultStockPage    = 200
)

// restockDelivery is the delivery id of the notices a restock records.
const restockDelivery = "restock"

func (p *Processor) stockPerHour() int {
	if p.StockPerHour > 0 {
		return p.StockPerHour
	}
	return DefaultStockPerHour
}

func (p *Processor) stockPage() int {
	if p.StockPage > 0 {
		return p.StockPage
	}
	return DefaultStockPage
}

// stockChanged records a SKU's stock level. When the SKU sells out before
// some of its restock's notices were due, those subscriptions wait for the
// next restock and their notices' actions are cancelled (recordSoldOut).
func (p *Processor) stockChanged(ctx context.Context, tx *store.Store, w *work, e models.Event) error {
	p.restocks.note()
	prod := e.Data.Product
	sku := store.Truncate(prod.SKU, 191)
	ch, err := tx.ApplyStockLevel(ctx, w.shop.ID, sku, prod.Stock, e.OccurredAt())
	if err != nil {
		return fmt.Errorf("stock of %s: %w", sku, err)
	}
	switch {
	case !ch.Applied:
		p.Log.DebugContext(ctx, "stock level older than the last one ignored", "shop", w.shop.Key, "inbox_id", w.it.ID)
	case ch.Restocked:
		p.Log.InfoContext(ctx, "restock", "shop", w.shop.Key, "inbox_id", w.it.ID, "stock", prod.Stock)
	case ch.RanOut && ch.RestockAt != nil:
		subs, err := tx.ReopenStockNotices(ctx, w.shop.ID, sku, *ch.RestockAt, e.OccurredAt())
		if err != nil {
			return fmt.Errorf("stock of %s: %w", sku, err)
		}
		if err := p.recordSoldOut(ctx, tx, w.shop, subs, *ch.RestockAt, e.OccurredAt()); err != nil {
			return fmt.Errorf("stock of %s: %w", sku, err)
		}
		p.Log.InfoContext(ctx, "sold out again", "shop", w.shop.Key, "inbox_id", w.it.ID, "notices_withdrawn", len(subs))
	}
	return nil
}

// recordSoldOut records a stock.sold_out in the journey of each subscriber
// whose notice's slot had not come when the SKU sold out at at: the rules
// cancel its pending actions (out_of_stock), in processing and in the
// backtest alike. It runs in the transaction that saw the level; a restock
// that sells out while thousands wait makes it as long as their notices.
func (p *Processor) recordSoldOut(ctx context.Context, tx *store.Store, shop *models.Shop, subs []store.StockSubscription, restockAt, at time.Time) error {
	if err := lockSubscribers(ctx, tx, subs); err != nil {
		return err
	}
	for _, sub := range subs {
		e := models.Event{Type: models.StockSoldOut, Timestamp: at, Data: models.EventData{Restock: &models.Restock{
			Subscription: sub.ID, SKU: sub.SKU, RestockAt: restockAt, SubscribedAt: sub.SubscribedAt.UTC(),
		}}}
		if _, err := p.recordDerived(ctx, tx, shop, sub, e); err != nil {
			return err
		}
	}
	return nil
}

// lockSubscribers locks the customers of subs in id order, as processing
// batches lock them.
func lockSubscribers(ctx context.Context, tx *store.Store, subs []store.StockSubscription) error {
	ids := make([]int64, 0, len(subs))
	for _, s := range subs {
		ids = append(ids, s.CustomerID)
	}
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		if err := tx.LockCustomer(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// recordDerived records an event Treue derives from the stock levels in a
// subscriber's journey, through the Recorder like any other; it returns the
// stored event's id (0 when the journey had its step already).
func (p *Processor) recordDerived(ctx context.Context, tx *store.Store, shop *models.Shop, sub store.StockSubscription, e models.Event) (int64, error) {
	data, err := eventData(e)
	if err != nil {
		return 0, err
	}
	rec := &store.EventRecord{
		ShopID: shop.ID, CustomerID: sub.CustomerID, Type: string(e.Type), StepKey: store.Truncate(e.StepKey(), 255),
		OccurredAt: e.OccurredAt(), ReceivedAt: p.Now(), Platform: "treue", DeliveryID: restockDelivery + ":" + strconv.FormatInt(sub.ID, 10), Data: data,
	}
	rec.Describe(&e)
	inserted, err := p.recorder().Record(ctx, tx, Entry{Shop: shop, Event: e, Record: rec})
	if err != nil || !inserted {
		return 0, err
	}
	return rec.ID, nil
}

// journalStore is the store behind a journal, where the subscriptions are
// written at once (a failing batch rolls them back with the rest).
func journalStore(j Journal) *store.Store {
	switch j := j.(type) {
	case *store.Store:
		return j
	case *batchJournal:
		return j.tx
	}
	return nil
}

// recordSubscription keeps a customer's subscription to a SKU current, for
// a subscription or an unsubscription newly in the journey.
func recordSubscription(ctx context.Context, j Journal, shopID, customerID int64, e models.Event) error {
	tx := journalStore(j)
	if tx == nil || e.Data.Subscription == nil {
		return nil
	}
	sku := store.Truncate(e.Data.Subscription.SKU, 191)
	var err error
	switch e.Type {
	case models.StockSubscribed:
		err = tx.Subscribe(ctx, shopID, customerID, sku, e.OccurredAt())
	case models.StockUnsubscribed:
		err = tx.Unsubscribe(ctx, shopID, customerID, sku, e.OccurredAt())
	}
	if err != nil {
		return fmt.Errorf("subscription to %s: %w", sku, err)
	}
	return nil
}

// notifyRestocks records the notices of every restock still waiting, a
// page per transaction, oldest subscription first. On MySQL it asks shop by
// shop, as processUpTo does, so that each query stays on one shop's shard.
func (p *Processor) notifyRestocks(ctx context.Context) error {
	if p.Store.Driver() != "mysql" {
		return p.notifyRestocksOf(ctx, p.Store)
	}
	ids, err := p.Store.ShopIDs(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := p.notifyRestocksOf(ctx, p.Store.ForShop(id)); err != nil {
			return err
		}
	}
	return nil
}

// notifyRestocksOf records the waiting notices of st (one shop's on a
// scoped store, any shop's otherwise).
func (p *Processor) notifyRestocksOf(ctx context.Context, st *store.Store) error {
	for ctx.Err() == nil {
		shopID, sku, ok, err := st.PendingRestock(ctx)
		if err != nil || !ok {
			return err
		}
		ctx, noted := withVerdicts(ctx)
		if err := p.Store.ForShop(shopID).InTx(ctx, func(tx *store.Store) error {
			rewind(ctx, 0, 0)
			return p.restockPage(ctx, tx, shopID, sku)
		}); err != nil {
			return fmt.Errorf("restock of %s: %w", sku, err)
		}
		p.Metrics.count(noted)
	}
	return nil
}

// restockPage records the next page of a restock's notices. The k-th
// subscriber (0-based) is due at the restock plus k/N hours: at most N per
// hour per SKU.
func (p *Processor) restockPage(ctx context.Context, tx *store.Store, shopID int64, sku string) error {
	page, ok, err := tx.LockRestockPage(ctx, shopID, sku, p.stockPage())
	if err != nil || !ok {
		return err
	}
	shop, err := tx.ShopByID(ctx, shopID)
	if err != nil {
		return err
	}
	if err := lockSubscribers(ctx, tx, page.Waiting); err != nil {
		return err
	}
	n := p.stockPerHour()
	slots := (page.Subscribers + n - 1) / n
	for i, sub := range page.Waiting {
		k := page.Notified + i
		slotAt := page.RestockAt.Add(time.Duration(k/n) * time.Hour)
		e := models.Event{Type: models.StockAvailable, Timestamp: slotAt, Data: models.EventData{Restock: &models.Restock{
			Subscription: sub.ID, SKU: sub.SKU, RestockAt: page.RestockAt, SubscribedAt: sub.SubscribedAt.UTC(),
			Rank: k + 1, Subscribers: page.Subscribers, PerHour: n, Slot: k/n + 1, Slots: slots, SlotAt: slotAt,
		}}}
		id, err := p.recordDerived(ctx, tx, shop, sub, e)
		if err != nil {
			return err
		}
		if err := tx.MarkNotified(ctx, shopID, sub.ID, page.RestockAt, id, slotAt); err != nil {
			return err
		}
	}
	if page.Notified+len(page.Waiting) >= page.Subscribers {
		return tx.FinishRestock(ctx, shopID, sku, page.RestockAt)
	}
	return nil
}

// restockHint spares the processor a look for restock notices (a query per
// shop) on every round: only a stock level or a subscription can start or
// reopen a restock's queue, so it looks after one of those was processed
// here, and at least every restockRecheck for what another replica left
// behind (one that stopped between recording a restock and its notices).
// A note made by a batch that is then rolled back only costs one look. A
// writer beside the processor's loop (the stock lookups) notes again after
// its commit, since a look between its note and its commit finds nothing.
type restockHint struct {
	mu     sync.Mutex
	noted  bool
	lookAt time.Time // the last look; zero before the first
}

const restockRecheck = time.Minute

func (h *restockHint) note() {
	h.mu.Lock()
	h.noted = true
	h.mu.Unlock()
}

// due reports whether to look now, and if so counts the look as made.
func (h *restockHint) due(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.noted && !h.lookAt.IsZero() && now.Sub(h.lookAt) < restockRecheck {
		return false
	}
	h.noted, h.lookAt = false, now
	return true
}
