package store

import (
	"context"
	"time"
)

// StockLookup is a stock change waiting for its level to be read from the
// shop's API (stock_lookups).
type StockLookup struct {
	ShopID    int64     `gorm:"column:shop_id;primaryKey"`
	Ref       string    `gorm:"column:ref;primaryKey"`
	SeenAt    time.Time `gorm:"column:seen_at"`
	Attempts  int       `gorm:"column:attempts"`
	DueAt     time.Time `gorm:"column:due_at"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

// TableName maps StockLookup to its table.
func (StockLookup) TableName() string { return "stock_lookups" }

// QueueStockLookup records that ref's stock changed at at, to be read from
// the shop's API now. A lookup already waiting is due now and remembers the
// later of the two times; a duplicate delivery changes nothing but that.
func (s *Store) QueueStockLookup(ctx context.Context, shopID int64, ref string, at time.Time) error {
	now := s.Now().UTC()
	// MySQL keeps microseconds: FinishStockLookup compares seen_at exactly.
	at = at.UTC().Truncate(time.Microsecond)
	db := s.db.WithContext(ctx)
	res := db.Clauses(s.skipDuplicate("ref")).Create(&StockLookup{ShopID: shopID, Ref: ref, SeenAt: at, DueAt: now, CreatedAt: now})
	if res.Error != nil {
		return translate("stock lookup", res.Error)
	}
	err := db.Model(&StockLookup{}).Where("shop_id = ? AND ref = ? AND seen_at < ?", shopID, ref, at).
		Updates(map[string]any{"seen_at": at, "due_at": now, "attempts": 0}).Error
	return translate("stock lookup", err)
}

// DueStockLookups returns up to limit lookups due at now, the longest due
// first (one shop's on a scoped store).
func (s *Store) DueStockLookups(ctx context.Context, now time.Time, limit int) ([]StockLookup, error) {
	var out []StockLookup
	err := s.scoped(ctx, "stock_lookups").Where("due_at <= ?", now.UTC()).Order("due_at, shop_id, ref").Limit(limit).Find(&out).Error
	return out, translate("stock lookups", err)
}

// FinishStockLookup removes a lookup that was read (or cannot be), unless a
// newer change was announced while it was being read: that one is read
// again.
func (s *Store) FinishStockLookup(ctx context.Context, l StockLookup) error {
	err := s.db.WithContext(ctx).Where("shop_id = ? AND ref = ? AND seen_at = ?", l.ShopID, l.Ref, l.SeenAt.UTC()).Delete(&StockLookup{}).Error
	return translate("stock lookup", err)
}

// RetryStockLookup puts a lookup whose read failed off until dueAt.
func (s *Store) RetryStockLookup(ctx context.Context, l StockLookup, dueAt time.Time) error {
	err := s.db.WithContext(ctx).Model(&StockLookup{}).Where("shop_id = ? AND ref = ? AND seen_at = ?", l.ShopID, l.Ref, l.SeenAt.UTC()).
		Updates(map[string]any{"attempts": l.Attempts + 1, "due_at": dueAt.UTC()}).Error
	return translate("stock lookup", err)
}
