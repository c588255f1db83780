package process

import (
	"context"
	"errors"
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
	// Metrics, when set, counts what the daily-scan rules plan.
	Metrics *Metrics
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

// ScanAll scans every customer once and returns how many it scanned. It
// goes shop by shop, each customer's transaction on a store scoped to the
// shop: on a keyspace sharded by shop (deploy/vitess) every statement of the
// scan then goes to that shop's shard.
func (s *Scanner) ScanAll(ctx context.Context) (int, error) {
	release, ok, err := s.Store.TryLock(ctx, "treue_scan")
	if err != nil || !ok {
		return 0, err
	}
	defer release()
	ids, err := s.Store.ShopIDs(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		shop, err := s.Store.ShopByID(ctx, id)
		if errors.Is(err, models.ErrNotFound) {
			continue // removed since
		}
		if err != nil {
			return n, err
		}
		st := s.Store.ForShop(id)
		var after int64
		for {
			page, err := st.CustomersAfter(ctx, after, max(s.Batch, 1))
			if err != nil {
				return n, err
			}
			if len(page) == 0 {
				break
			}
			for _, c := range page {
				after = c.ID
				if err := s.scanOne(ctx, st, shop, c.ID); err != nil {
					return n, err
				}
				n++
			}
		}
	}
	return n, nil
}

func (s *Scanner) scanOne(ctx context.Context, st *store.Store, shop *models.Shop, customerID int64) error {
	ctx, noted := withVerdicts(ctx)
	err := st.InTx(ctx, func(tx *store.Store) error {
		rewind(ctx, 0, 0)
		if s.Planner != nil {
			// Before the customer, as the processor does (lockBudgets).
			if err := s.Planner.LockBudget(ctx, tx, shop.ID, nil); err != nil {
				return err
			}
		}
		if err := tx.LockCustomer(ctx, customerID); err != nil {
			return err
		}
		prof, _, _, err := RebuildProfile(ctx, tx, customerID, s.Now(), s.Options)
		if err != nil {
			return err
		}
		if s.Planner == nil {
			return nil
		}
		return s.Planner.Scan(ctx, tx, shop, prof)
	})
	if err == nil {
		s.Metrics.count(noted)
	}
	return err
}
