package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// productStockRow is a SKU's last reported stock level (product_stock).
type productStockRow struct {
	ShopID      int64
	SKU         string `gorm:"column:sku"`
	Quantity    int64
	ChangedAt   time.Time
	RestockAt   *time.Time
	RestockDone bool
	UpdatedAt   time.Time
}

func (productStockRow) TableName() string { return "product_stock" }

// StockSubscription is a customer's subscription to a SKU (stock_subscriptions).
type StockSubscription struct {
	ShopID       int64
	ID           int64
	CustomerID   int64
	SKU          string `gorm:"column:sku"`
	Active       bool
	SubscribedAt time.Time
	ChangedAt    time.Time
	// NotifiedRestockAt is the restock that recorded this subscription's
	// notice (event NoticeEventID, due NoticeAt); nil while it waits.
	NotifiedRestockAt *time.Time
	NoticeEventID     *int64
	NoticeAt          *time.Time
}

func (StockSubscription) TableName() string { return "stock_subscriptions" }

// StockChange is what a reported stock level changed.
type StockChange struct {
	// Applied is false for a level older than (or as old as) the last one:
	// a duplicate or a delivery overtaken by a newer one changes nothing.
	Applied bool
	// Restocked: the SKU went from out of stock (or unknown) to available at
	// the level's time.
	Restocked bool
	// RanOut: the SKU went from available to out of stock; RestockAt is the
	// restock that ended.
	RanOut    bool
	RestockAt *time.Time
}

// ApplyStockLevel records a SKU's stock level at source time at, last
// writer wins by source time. A SKU Treue has no level of counts as out of
// stock: customers subscribe to what the shop cannot sell.
func (s *Store) ApplyStockLevel(ctx context.Context, shopID int64, sku string, qty int64, at time.Time) (StockChange, error) {
	at = at.UTC()
	now := s.Now().UTC()
	db := s.db.WithContext(ctx)
	if err := db.Clauses(s.skipDuplicate("sku")).Create(&productStockRow{
		ShopID: shopID, SKU: sku, Quantity: 0, ChangedAt: time.Unix(0, 0).UTC(), RestockDone: true, UpdatedAt: now,
	}).Error; err != nil {
		return StockChange{}, translate("stock level", err)
	}
	var row productStockRow
	if err := db.Raw("SELECT * FROM product_stock WHERE shop_id = ? AND sku = ?"+s.forUpdate(false), shopID, sku).Scan(&row).Error; err != nil {
		return StockChange{}, translate("stock level", err)
	}
	if !at.After(row.ChangedAt) {
		return StockChange{}, nil
	}
	ch := StockChange{Applied: true}
	set := map[string]any{"quantity": qty, "changed_at": at, "updated_at": now}
	switch {
	case row.Quantity <= 0 && qty > 0:
		ch.Restocked = true
		set["restock_at"], set["restock_done"] = at, false
	case row.Quantity > 0 && qty <= 0:
		ch.RanOut, ch.RestockAt = true, row.RestockAt
		set["restock_at"], set["restock_done"] = nil, true
	}
	err := db.Model(&productStockRow{}).Where("shop_id = ? AND sku = ?", shopID, sku).Updates(set).Error
	return ch, translate("stock level", err)
}

// lockSubscription returns a customer's subscription to sku, locked; a
// zero ID when there is none.
func (s *Store) lockSubscription(db *gorm.DB, shopID, customerID int64, sku string) (StockSubscription, error) {
	var sub StockSubscription
	err := db.Raw("SELECT * FROM stock_subscriptions WHERE shop_id = ? AND customer_id = ? AND sku = ?"+s.forUpdate(false),
		shopID, customerID, sku).Scan(&sub).Error
	return sub, translate("stock subscription", err)
}

// Subscribe records a customer's subscription to sku at source time at.
// A repeated subscription that still waits keeps its place in the queue;
// one after a notice or an unsubscription starts a new wait. A subscription
// older than the row's last change changes nothing.
func (s *Store) Subscribe(ctx context.Context, shopID, customerID int64, sku string, at time.Time) error {
	at = at.UTC()
	db := s.db.WithContext(ctx)
	sub, err := s.lockSubscription(db, shopID, customerID, sku)
	if err != nil {
		return err
	}
	switch {
	case sub.ID == 0:
		err = db.Create(&StockSubscription{ShopID: shopID, CustomerID: customerID, SKU: sku, Active: true, SubscribedAt: at, ChangedAt: at}).Error
	case !at.After(sub.ChangedAt):
		return nil
	case sub.Active && sub.NotifiedRestockAt == nil:
		err = db.Model(&StockSubscription{}).Where("shop_id = ? AND id = ?", shopID, sub.ID).Update("changed_at", at).Error
	default:
		err = db.Model(&StockSubscription{}).Where("shop_id = ? AND id = ?", shopID, sub.ID).Updates(map[string]any{"active": true, "subscribed_at": at, "changed_at": at,
			"notified_restock_at": nil, "notice_event_id": nil, "notice_at": nil}).Error
	}
	if err != nil {
		return translate("subscribe", err)
	}
	// A subscription that happened before the SKU's current restock, and
	// arrived after it, joins that restock's queue.
	err = db.Model(&productStockRow{}).Where("shop_id = ? AND sku = ? AND restock_at IS NOT NULL AND restock_at >= ?", shopID, sku, at).
		Update("restock_done", false).Error
	return translate("subscribe", err)
}

// Unsubscribe ends a customer's subscription to sku at source time at. With
// no subscription known yet, it is kept as an ended one, so that the
// subscription, arriving after it, changes nothing.
func (s *Store) Unsubscribe(ctx context.Context, shopID, customerID int64, sku string, at time.Time) error {
	at = at.UTC()
	db := s.db.WithContext(ctx)
	sub, err := s.lockSubscription(db, shopID, customerID, sku)
	if err != nil {
		return err
	}
	switch {
	case sub.ID == 0:
		err = db.Create(&StockSubscription{ShopID: shopID, CustomerID: customerID, SKU: sku, Active: false, SubscribedAt: at, ChangedAt: at}).Error
	case at.After(sub.ChangedAt):
		err = db.Model(&StockSubscription{}).Where("shop_id = ? AND id = ?", shopID, sub.ID).Updates(map[string]any{"active": false, "changed_at": at}).Error
	}
	return translate("unsubscribe", err)
}

// PendingRestock names a SKU whose restock still has notices to record;
// ok is false when none has.
func (s *Store) PendingRestock(ctx context.Context) (shopID int64, sku string, ok bool, err error) {
	var row productStockRow
	res := s.scoped(ctx, "product_stock").Where("restock_done = ?", false).Order("shop_id, sku").Limit(1).Find(&row)
	if res.Error != nil {
		return 0, "", false, translate("pending restock", res.Error)
	}
	return row.ShopID, row.SKU, res.RowsAffected == 1, nil
}

// RestockPage is the next part of a restock's queue.
type RestockPage struct {
	RestockAt time.Time
	// Notified counts the subscriptions this restock has recorded notices
	// for already; Subscribers adds those still waiting.
	Notified    int
	Subscribers int
	// Waiting are the oldest waiting subscriptions, at most the page's limit.
	Waiting []StockSubscription
}

// LockRestockPage locks a SKU's stock row and returns the next up to limit
// subscriptions its current restock has not notified, oldest first: open,
// subscribed at or before the restock, of customers not erased (erasure
// deletes their subscriptions). ok is false when the SKU has no restock
// waiting (it ran out again, or the last page was done).
func (s *Store) LockRestockPage(ctx context.Context, shopID int64, sku string, limit int) (page RestockPage, ok bool, err error) {
	db := s.db.WithContext(ctx)
	var row productStockRow
	if err := db.Raw("SELECT * FROM product_stock WHERE shop_id = ? AND sku = ?"+s.forUpdate(false), shopID, sku).Scan(&row).Error; err != nil {
		return page, false, translate("restock page", err)
	}
	if row.RestockDone || row.RestockAt == nil {
		return page, false, nil
	}
	page.RestockAt = row.RestockAt.UTC()
	var notified, waiting int64
	if err := db.Model(&StockSubscription{}).Where("shop_id = ? AND sku = ? AND notified_restock_at = ?", shopID, sku, page.RestockAt).
		Count(&notified).Error; err != nil {
		return page, false, translate("restock page", err)
	}
	open := db.Model(&StockSubscription{}).Where("shop_id = ? AND sku = ? AND active = ? AND notified_restock_at IS NULL AND subscribed_at <= ?",
		shopID, sku, true, page.RestockAt)
	if err := open.Count(&waiting).Error; err != nil {
		return page, false, translate("restock page", err)
	}
	if err := db.Where("shop_id = ? AND sku = ? AND active = ? AND notified_restock_at IS NULL AND subscribed_at <= ?",
		shopID, sku, true, page.RestockAt).Order("subscribed_at, id").Limit(limit).Find(&page.Waiting).Error; err != nil {
		return page, false, translate("restock page", err)
	}
	page.Notified, page.Subscribers = int(notified), int(notified+waiting)
	return page, true, nil
}

// MarkNotified records the notice a restock recorded for a subscription.
func (s *Store) MarkNotified(ctx context.Context, shopID, id int64, restockAt time.Time, eventID int64, noticeAt time.Time) error {
	err := s.db.WithContext(ctx).Model(&StockSubscription{}).Where("shop_id = ? AND id = ?", shopID, id).
		Updates(map[string]any{"notified_restock_at": restockAt.UTC(), "notice_event_id": eventID, "notice_at": noticeAt.UTC()}).Error
	return translate("mark notified", err)
}

// FinishRestock marks a restock's queue done.
func (s *Store) FinishRestock(ctx context.Context, shopID int64, sku string, restockAt time.Time) error {
	err := s.db.WithContext(ctx).Model(&productStockRow{}).Where("shop_id = ? AND sku = ? AND restock_at = ?", shopID, sku, restockAt.UTC()).
		Update("restock_done", true).Error
	return translate("finish restock", err)
}

// ReopenStockNotices puts back in the queue the subscriptions whose notice
// of the restock restockAt was due after the SKU sold out again at at, and
// returns them as they were (their notice still named).
func (s *Store) ReopenStockNotices(ctx context.Context, shopID int64, sku string, restockAt, at time.Time) ([]StockSubscription, error) {
	db := s.db.WithContext(ctx)
	var subs []StockSubscription
	if err := db.Where("shop_id = ? AND sku = ? AND notified_restock_at = ? AND notice_at > ?", shopID, sku, restockAt.UTC(), at.UTC()).
		Order("subscribed_at, id").Find(&subs).Error; err != nil {
		return nil, translate("reopen notices", err)
	}
	if len(subs) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(subs))
	for i, sub := range subs {
		ids[i] = sub.ID
	}
	err := db.Model(&StockSubscription{}).Where("shop_id = ? AND id IN ?", shopID, ids).
		Updates(map[string]any{"notified_restock_at": nil, "notice_event_id": nil, "notice_at": nil}).Error
	return subs, translate("reopen notices", err)
}

// StockLevel returns a SKU's last reported quantity and its source time;
// found is false for a SKU never reported.
func (s *Store) StockLevel(ctx context.Context, shopID int64, sku string) (qty int64, at time.Time, found bool, err error) {
	var row productStockRow
	err = s.scoped(ctx, "product_stock").Where("shop_id = ? AND sku = ?", shopID, sku).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, time.Time{}, false, nil
	}
	if err != nil {
		return 0, time.Time{}, false, translate("stock level", err)
	}
	return row.Quantity, row.ChangedAt.UTC(), true, nil
}

// StockSubscriptions lists a SKU's subscriptions, oldest first.
func (s *Store) StockSubscriptions(ctx context.Context, shopID int64, sku string) ([]StockSubscription, error) {
	var out []StockSubscription
	err := s.scoped(ctx, "stock_subscriptions").Where("shop_id = ? AND sku = ?", shopID, sku).Order("subscribed_at, id").Find(&out).Error
	return out, translate("stock subscriptions", err)
}
