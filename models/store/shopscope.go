package store

import (
	"context"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ForShop returns the store scoped to one shop: each statement it sends on
// a shop's table also says shop_id = shopID, so that on a keyspace sharded
// by shop (deploy/vitess) Vitess routes it to that shop's shard. Rows of
// other shops are then out of its reach. A transaction begun on it (InTx)
// is scoped alike. shopID 0 is the unscoped store.
func (s *Store) ForShop(shopID int64) *Store {
	c := *s
	c.shop = shopID
	return &c
}

// Shop is the shop the store is scoped to, 0 when it is not.
func (s *Store) Shop() int64 { return s.shop }

// scoped is the session for ctx, restricted to the store's shop on table.
func (s *Store) scoped(ctx context.Context, table string) *gorm.DB {
	db := s.db.WithContext(ctx)
	if s.shop != 0 {
		db = db.Where(table+".shop_id = ?", s.shop)
	}
	return db
}

// shopCond is the condition scoped adds, for raw SQL: " AND table.shop_id = ?"
// and its argument, or nothing on an unscoped store.
func (s *Store) shopCond(table string) (string, []any) {
	if s.shop == 0 {
		return "", nil
	}
	return " AND " + table + ".shop_id = ?", []any{s.shop}
}

// skipDuplicate makes an INSERT into a table keyed without an id skip a row
// that is there already. GORM's DoNothing on MySQL assigns the table's first
// key column to itself, here shop_id: Vitess refuses an upsert that sets the
// vindex column, so col, a column of the key that is not shop_id, is
// assigned instead. SQLite keeps ON CONFLICT DO NOTHING, which counts no row.
func (s *Store) skipDuplicate(col string) clause.Expression {
	if s.driver != "mysql" {
		return clause.OnConflict{DoNothing: true}
	}
	return clause.OnConflict{DoUpdates: clause.Set{{Column: clause.Column{Name: col}, Value: clause.Column{Name: col}}}}
}
