package privacy

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/webhooks/process"
)

// Service carries out category opt-outs and erasure (GDPR Art. 17).
type Service struct {
	Store   *store.Store
	Options journey.Options
	Log     *slog.Logger
	Now     func() time.Time
}

// OptOut records that a customer is not interested in category, cancels
// pending actions about it and refreshes the profile, in one transaction.
func (p *Service) OptOut(ctx context.Context, shopID, customerID int64, category, source string) (cancelled int64, err error) {
	category = strings.TrimSpace(category)
	if category == "" || len(category) > 191 {
		return 0, &models.ValidationError{Fields: []models.FieldError{{Field: "category", Message: "is required (1-191 characters)"}}}
	}
	// On a store scoped to the shop, so that each statement names it.
	err = p.Store.ForShop(shopID).InTx(ctx, func(tx *store.Store) error {
		if err := tx.LockCustomer(ctx, customerID); err != nil {
			return err
		}
		if _, err := tx.AddOptOut(ctx, shopID, customerID, category, source); err != nil {
			return err
		}
		if cancelled, err = tx.CancelPendingByCategory(ctx, customerID, category, "category opt-out: "+category); err != nil {
			return err
		}
		_, _, _, err := process.RebuildProfile(ctx, tx, customerID, p.Now(), p.Options)
		return err
	})
	return cancelled, err
}

// UndoOptOut removes an opt-out of a shop's customer; cancelled actions stay
// cancelled.
func (p *Service) UndoOptOut(ctx context.Context, shopID, customerID int64, category string) error {
	return p.Store.ForShop(shopID).InTx(ctx, func(tx *store.Store) error {
		if err := tx.LockCustomer(ctx, customerID); err != nil {
			return err
		}
		removed, err := tx.RemoveOptOut(ctx, customerID, category)
		if err != nil {
			return err
		}
		if !removed {
			return fmt.Errorf("no opt-out for category %q: %w", category, models.ErrNotFound)
		}
		_, _, _, err = process.RebuildProfile(ctx, tx, customerID, p.Now(), p.Options)
		return err
	})
}

// Erase erases a customer; see store.EraseCustomer.
func (p *Service) Erase(ctx context.Context, shopID, customerID int64, requestedBy string) (*models.Erasure, error) {
	var er *models.Erasure
	err := p.Store.InTx(ctx, func(tx *store.Store) error {
		var err error
		er, err = tx.EraseCustomer(ctx, shopID, customerID, requestedBy)
		return err
	})
	if err != nil {
		return nil, err
	}
	p.Log.InfoContext(ctx, "customer erased", "shop_id", shopID, "erasure_id", er.ID, "requested_by", requestedBy)
	return er, nil
}

// Retention purges raw webhook bodies and old journey events in small batches.
type Retention struct {
	Store      *store.Store
	Log        *slog.Logger
	Now        func() time.Time
	RawPayload time.Duration
	Events     time.Duration
	Every      time.Duration
	Batch      int
}

// Run purges every r.Every until ctx ends.
func (r *Retention) Run(ctx context.Context) {
	for {
		if _, _, err := r.PurgeOnce(ctx); err != nil && ctx.Err() == nil {
			r.Log.WarnContext(ctx, "retention purge failed; retrying next round", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(r.Every):
		}
	}
}

// PurgeOnce purges everything past retention, batch by batch, so no single
// statement locks many rows.
func (r *Retention) PurgeOnce(ctx context.Context) (payloads, events int64, err error) {
	now := r.Now()
	for {
		n, err := r.Store.PurgeRawPayloads(ctx, now.Add(-r.RawPayload), r.Batch)
		payloads += n
		if err != nil || n < int64(r.Batch) {
			if err != nil {
				return payloads, events, err
			}
			break
		}
	}
	for {
		n, err := r.Store.PurgeEvents(ctx, now.Add(-r.Events), r.Batch)
		events += n
		if err != nil || n < int64(r.Batch) {
			if err != nil {
				return payloads, events, err
			}
			break
		}
	}
	gone, err := r.Store.PurgeRemovedShops(ctx)
	if err != nil {
		return payloads, events, err
	}
	if payloads+events > 0 || len(gone) > 0 {
		r.Log.InfoContext(ctx, "retention purge", "raw_payloads", payloads, "events", events, "removed_shops", gone)
	}
	return payloads, events, nil
}
