package webhooks

import (
	"context"
	"log/slog"
	"time"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

// Scanner is the periodic pass over every customer: it refreshes profiles
// whose stage moves with time alone (at risk, lapsed; shipped orders that now
// count as delivered) and runs the daily-scan rules (win-back, birthdays).
// Repeating a pass is harmless: the actions' idempotency keys dedupe them.
// Across replicas a named lock lets one process scan at a time.
type Scanner struct {
	Store   *store.Store
	Planner *RulesPlanner
	Options journey.Options
	Log     *slog.Logger
	Now     func() time.Time
	Every   time.Duration
	Batch   int
}

// Run scans at start and then every s.Every until ctx ends.
func (s *Scanner) Run(ctx context.Context) {
	for {
		if n, err := s.ScanAll(ctx); err != nil && ctx.Err() == nil {
			s.Log.WarnContext(ctx, "customer scan failed; retrying next round", "scanned", n, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.Every):
		}
	}
}

// ScanAll scans every customer once and returns how many it scanned.
func (s *Scanner) ScanAll(ctx context.Context) (int, error) {
	release, ok, err := s.Store.TryLock(ctx, "treue_scan")
	if err != nil || !ok {
		return 0, err
	}
	defer release()
	shops := map[int64]*models.Shop{}
	var after int64
	n := 0
	for {
		page, err := s.Store.CustomersAfter(ctx, after, max(s.Batch, 1))
		if err != nil || len(page) == 0 {
			return n, err
		}
		for _, c := range page {
			after = c.ID
			shop := shops[c.ShopID]
			if shop == nil {
				if shop, err = s.Store.ShopByID(ctx, c.ShopID); err != nil {
					return n, err
				}
				shops[c.ShopID] = shop
			}
			if err := s.scanOne(ctx, shop, c.ID); err != nil {
				return n, err
			}
			n++
		}
	}
}

func (s *Scanner) scanOne(ctx context.Context, shop *models.Shop, customerID int64) error {
	return s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.LockCustomer(ctx, customerID); err != nil {
			return err
		}
		prof, _, _, err := rebuildProfile(ctx, direct{tx}, customerID, s.Now(), s.Options)
		if err != nil {
			return err
		}
		if s.Planner == nil {
			return nil
		}
		return s.Planner.Scan(ctx, tx, shop, prof)
	})
}
