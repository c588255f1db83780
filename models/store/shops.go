package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/treue/treue/models"
)

type shopRow struct {
	ID         int64
	ShopKey    string
	Platform   string
	Name       string
	Timezone   string
	Currency   string
	ExternalID *string
	URL        string
	Source     string
	Connector  string
	Secrets    string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (shopRow) TableName() string { return "shops" }

func (s *Store) toShop(r *shopRow) (*models.Shop, error) {
	sh := &models.Shop{
		ID: r.ID, Key: r.ShopKey, Platform: models.Platform(r.Platform), Name: r.Name,
		Timezone: r.Timezone, Currency: r.Currency, URL: r.URL, Source: r.Source, Connector: r.Connector,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if r.ExternalID != nil {
		sh.ExternalID = *r.ExternalID
	}
	if r.Secrets != "" {
		pt, err := s.sealer.Open(r.Secrets)
		if err != nil {
			return nil, fmt.Errorf("store: shop %s secrets: %w", r.ShopKey, err)
		}
		if err := json.Unmarshal(pt, &sh.Secrets); err != nil {
			return nil, fmt.Errorf("store: shop %s secrets: %w", r.ShopKey, err)
		}
	}
	return sh, nil
}

func (s *Store) fromShop(sh *models.Shop) (*shopRow, error) {
	pt, err := json.Marshal(sh.Secrets)
	if err != nil {
		return nil, fmt.Errorf("store: shop secrets: %w", err)
	}
	sealed, err := s.sealer.Seal(pt)
	if err != nil {
		return nil, fmt.Errorf("store: shop secrets: %w", err)
	}
	r := &shopRow{
		ID: sh.ID, ShopKey: sh.Key, Platform: string(sh.Platform), Name: sh.Name,
		Timezone: sh.Timezone, Currency: sh.Currency, URL: sh.URL, Source: sh.Source, Connector: sh.Connector,
		Secrets: sealed, CreatedAt: sh.CreatedAt, UpdatedAt: sh.UpdatedAt,
	}
	if r.Timezone == "" {
		r.Timezone = "UTC"
	}
	if r.Currency == "" {
		r.Currency = "EUR"
	}
	if sh.ExternalID != "" {
		r.ExternalID = &sh.ExternalID
	}
	return r, nil
}

// SealedShops counts the shops whose secrets are stored sealed: those a
// different key could not open. A database without the schema has none.
func (s *Store) SealedShops(ctx context.Context) (int64, error) {
	db := s.db.WithContext(ctx)
	if !db.Migrator().HasTable(&shopRow{}) {
		return 0, nil
	}
	var n int64
	err := db.Model(&shopRow{}).Where("secrets <> ''").Count(&n).Error
	return n, translate("count sealed shops", err)
}

// ShopByKey finds a shop by its Treue key.
func (s *Store) ShopByKey(ctx context.Context, key string) (*models.Shop, error) {
	var r shopRow
	if err := s.db.WithContext(ctx).Where("shop_key = ?", key).Take(&r).Error; err != nil {
		return nil, translate("shop by key", err)
	}
	return s.toShop(&r)
}

// ShopByExternalID finds a shop by the platform's own id for it.
func (s *Store) ShopByExternalID(ctx context.Context, p models.Platform, externalID string) (*models.Shop, error) {
	var r shopRow
	if err := s.db.WithContext(ctx).Where("platform = ? AND external_id = ?", string(p), externalID).Take(&r).Error; err != nil {
		return nil, translate("shop by external id", err)
	}
	return s.toShop(&r)
}

// ShopByID finds a shop by its row id.
func (s *Store) ShopByID(ctx context.Context, id int64) (*models.Shop, error) {
	var r shopRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translate("shop by id", err)
	}
	return s.toShop(&r)
}

// ShopIDs returns the row id of every shop, in order, without reading their
// secrets: the processor visits shops one by one.
func (s *Store) ShopIDs(ctx context.Context) ([]int64, error) {
	var ids []int64
	if err := s.db.WithContext(ctx).Model(&shopRow{}).Order("id").Pluck("id", &ids).Error; err != nil {
		return nil, translate("shop ids", err)
	}
	return ids, nil
}

// ListShops returns every shop ordered by key.
func (s *Store) ListShops(ctx context.Context) ([]*models.Shop, error) {
	var rows []shopRow
	if err := s.db.WithContext(ctx).Order("shop_key").Find(&rows).Error; err != nil {
		return nil, translate("list shops", err)
	}
	out := make([]*models.Shop, 0, len(rows))
	for i := range rows {
		sh, err := s.toShop(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, sh)
	}
	return out, nil
}

// SaveShop inserts sh when sh.ID is 0 and updates every field otherwise.
// A key or external id taken by another shop is models.ErrDuplicate.
func (s *Store) SaveShop(ctx context.Context, sh *models.Shop) error {
	if err := sh.Validate(); err != nil {
		return fmt.Errorf("store: save shop: %w", err)
	}
	now := s.Now()
	if sh.ID == 0 {
		sh.CreatedAt = now
	}
	sh.UpdatedAt = now
	r, err := s.fromShop(sh)
	if err != nil {
		return err
	}
	db := s.db.WithContext(ctx)
	if sh.ID == 0 {
		if err := db.Create(r).Error; err != nil {
			return translate("create shop "+sh.Key, err)
		}
		sh.ID = r.ID
		return nil
	}
	res := db.Model(&shopRow{}).Where("id = ?", sh.ID).Updates(map[string]any{
		"shop_key": r.ShopKey, "platform": r.Platform, "name": r.Name, "timezone": r.Timezone,
		"currency": r.Currency, "external_id": r.ExternalID, "url": r.URL, "source": r.Source,
		"secrets": r.Secrets, "connector": r.Connector, "updated_at": r.UpdatedAt,
	})
	if res.Error != nil {
		return translate("update shop "+sh.Key, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: update shop %s: %w", sh.Key, models.ErrNotFound)
	}
	return nil
}

// DeleteShop removes a shop and everything recorded for it.
func (s *Store) DeleteShop(ctx context.Context, key string) error {
	return s.InTx(ctx, func(tx *Store) error {
		sh, err := tx.ShopByKey(ctx, key)
		if err != nil {
			return err
		}
		if err := tx.deleteShopData(ctx, sh.ID); err != nil {
			return fmt.Errorf("delete shop %s: %w", key, err)
		}
		if err := tx.db.WithContext(ctx).Where("id = ?", sh.ID).Delete(&shopRow{}).Error; err != nil {
			return translate("delete shop "+key, err)
		}
		return nil
	})
}

func (s *Store) deleteShopData(ctx context.Context, shopID int64) error {
	db := s.db.WithContext(ctx)
	for _, table := range shopTables {
		if err := db.Exec("DELETE FROM "+table+" WHERE shop_id = ?", shopID).Error; err != nil {
			return translate(table, err)
		}
	}
	return nil
}

// PurgeRemovedShops deletes what is still recorded for shops that no longer
// exist: a replica's shop cache may accept a delivery for a moment after
// `treue shops remove`, and a batch that read the shop just before the
// removal may write after it. It returns the ids of the shops purged.
func (s *Store) PurgeRemovedShops(ctx context.Context) ([]int64, error) {
	db := s.db.WithContext(ctx)
	var live []int64
	if err := db.Model(&shopRow{}).Pluck("id", &live).Error; err != nil {
		return nil, translate("removed shops", err)
	}
	seen := map[int64]bool{}
	var gone []int64
	for _, table := range shopTables {
		// Each table's indexes lead with shop_id, so this reads an index.
		var ids []int64
		q := db.Table(table).Distinct("shop_id")
		if len(live) > 0 {
			q = q.Where("shop_id NOT IN ?", live)
		}
		if err := q.Pluck("shop_id", &ids).Error; err != nil {
			return nil, translate("removed shops: "+table, err)
		}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				gone = append(gone, id)
			}
		}
	}
	for _, id := range gone {
		if err := s.InTx(ctx, func(tx *Store) error { return tx.deleteShopData(ctx, id) }); err != nil {
			return nil, fmt.Errorf("store: purge removed shop %d: %w", id, err)
		}
	}
	return gone, nil
}

// shopTables lists every table keyed by shop_id; keep it in step with migrations.
var shopTables = []string{"erasures", "opt_outs", "access_log", "attempts", "points_ledger", "actions", "events", "customer_identities", "customers", "inbox",
	"stock_subscriptions", "product_stock", "budget_locks"}
