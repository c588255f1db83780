package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/treue/treue/models"
)

// Kinds of shop_sync rows.
const (
	SyncImport    = "import"
	SyncReconcile = "reconcile"
)

// SyncState is where a read of a shop's orders from its API stands: the
// history import's cursor, or the last reconciliation pass.
type SyncState struct {
	ShopID     int64
	Kind       string
	FromAt     *time.Time
	PageCursor string
	Orders     int64
	Events     int64
	Total      int64
	Done       bool
	LeaseOwner *string
	LeaseUntil *time.Time
	StartedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt *time.Time
}

// TableName implements gorm's Tabler.
func (SyncState) TableName() string { return "shop_sync" }

// ErrLeaseHeld says another owner holds a sync lease that has not expired.
var ErrLeaseHeld = errors.New("store: another process is reading this shop's orders")

// AcquireSync leases a shop's sync row of kind to owner until now+ttl and
// returns its state; a row that does not exist yet is created. It answers
// ErrLeaseHeld while another owner's lease runs. The lease is one
// conditional UPDATE (or an INSERT that a concurrent one makes a duplicate),
// which MySQL, MariaDB and SQLite all serialize, so two replicas never both
// hold it.
func (s *Store) AcquireSync(ctx context.Context, shopID int64, kind, owner string, ttl time.Duration) (SyncState, error) {
	now := s.Now().UTC()
	until := now.Add(ttl)
	db := s.db.WithContext(ctx)
	res := db.Model(&SyncState{}).
		Where("shop_id = ? AND kind = ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_until IS NULL OR lease_until < ?)", shopID, kind, owner, now).
		Updates(map[string]any{"lease_owner": owner, "lease_until": until})
	if res.Error != nil {
		return SyncState{}, translate("acquire sync lease", res.Error)
	}
	if res.RowsAffected == 0 {
		// MySQL counts changed rows only: a lease renewed within the same
		// microsecond changes none, and is still ours.
		if st, err := s.SyncState(ctx, shopID, kind); err == nil {
			if st.LeaseOwner != nil && *st.LeaseOwner == owner {
				return st, nil
			}
			return SyncState{}, ErrLeaseHeld
		} else if !errors.Is(err, models.ErrNotFound) {
			return SyncState{}, err
		}
		row := SyncState{ShopID: shopID, Kind: kind, Total: -1, LeaseOwner: &owner, LeaseUntil: &until, StartedAt: now, UpdatedAt: now}
		ins := db.Clauses(s.skipDuplicate("kind")).Create(&row)
		if ins.Error != nil {
			return SyncState{}, translate("create sync row", ins.Error)
		}
		if ins.RowsAffected == 0 {
			return SyncState{}, ErrLeaseHeld
		}
	}
	return s.SyncState(ctx, shopID, kind)
}

// SyncState reads a shop's sync row; models.ErrNotFound when there is none.
func (s *Store) SyncState(ctx context.Context, shopID int64, kind string) (SyncState, error) {
	var st SyncState
	err := s.db.WithContext(ctx).Where("shop_id = ? AND kind = ?", shopID, kind).Take(&st).Error
	return st, translate("sync state", err)
}

// SyncProgress is what one committed page changes in a sync row.
type SyncProgress struct {
	// Restart begins a new read from FromAt (a new import, a new pass).
	Restart    bool
	FromAt     time.Time
	PageCursor string
	Orders     int64 // added
	Events     int64 // added
	Total      int64 // -1 keeps the stored one
	Done       bool
}

// SaveSync records progress of owner's read, inside the transaction that
// recorded the page, and extends the lease by ttl. It answers ErrLeaseHeld
// when owner lost the lease meanwhile: the transaction must roll back.
func (s *Store) SaveSync(ctx context.Context, shopID int64, kind, owner string, p SyncProgress, ttl time.Duration) error {
	now := s.Now().UTC()
	set := map[string]any{
		"page_cursor": p.PageCursor, "done": p.Done, "updated_at": now, "lease_until": now.Add(ttl),
	}
	if p.Restart {
		from := p.FromAt.UTC()
		set["from_at"], set["orders"], set["events"], set["started_at"], set["finished_at"] = from, p.Orders, p.Events, now, nil
	} else {
		set["orders"] = gorm.Expr("orders + ?", p.Orders)
		set["events"] = gorm.Expr("events + ?", p.Events)
	}
	if p.Total >= 0 {
		set["total"] = p.Total
	}
	if p.Done {
		set["finished_at"] = now
	}
	res := s.db.WithContext(ctx).Model(&SyncState{}).Where("shop_id = ? AND kind = ? AND lease_owner = ?", shopID, kind, owner).Updates(set)
	if res.Error != nil {
		return translate("save sync", res.Error)
	}
	if res.RowsAffected == 0 {
		st, err := s.SyncState(ctx, shopID, kind)
		if err != nil {
			return err
		}
		if st.LeaseOwner == nil || *st.LeaseOwner != owner {
			return ErrLeaseHeld
		}
	}
	return nil
}

// ReleaseSync gives owner's lease up.
func (s *Store) ReleaseSync(ctx context.Context, shopID int64, kind, owner string) error {
	err := s.db.WithContext(ctx).Model(&SyncState{}).Where("shop_id = ? AND kind = ? AND lease_owner = ?", shopID, kind, owner).
		Updates(map[string]any{"lease_owner": nil, "lease_until": nil}).Error
	return translate("release sync", err)
}

// JourneyCounts sums up what a shop's journeys hold.
type JourneyCounts struct {
	Customers int64
	Orders    int64 // distinct orders with at least one step
	Events    int64
	ByType    map[string]int64
}

// ShopJourneyCounts counts a shop's customers, orders and journey steps
// (the import's summary).
func (s *Store) ShopJourneyCounts(ctx context.Context, shopID int64) (JourneyCounts, error) {
	db := s.db.WithContext(ctx)
	c := JourneyCounts{ByType: map[string]int64{}}
	if err := db.Table("customers").Where("shop_id = ?", shopID).Count(&c.Customers).Error; err != nil {
		return c, translate("count customers", err)
	}
	if err := db.Table("events").Where("shop_id = ? AND order_ref <> ''", shopID).Distinct("order_ref").Count(&c.Orders).Error; err != nil {
		return c, translate("count orders", err)
	}
	var rows []struct {
		Type string
		N    int64
	}
	if err := db.Table("events").Select("type, COUNT(*) AS n").Where("shop_id = ?", shopID).Group("type").Scan(&rows).Error; err != nil {
		return c, translate("count events", err)
	}
	for _, r := range rows {
		c.ByType[r.Type] = r.N
		c.Events += r.N
	}
	return c, nil
}
