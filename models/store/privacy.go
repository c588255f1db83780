package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/treue/treue/models"
)

type optOutRow struct {
	ShopID     int64
	CustomerID int64
	Category   string
	Source     string
	CreatedAt  time.Time
}

func (optOutRow) TableName() string { return "opt_outs" }

// AddOptOut records that a customer is not interested in category; added is
// false when it was already recorded.
func (s *Store) AddOptOut(ctx context.Context, shopID, customerID int64, category, source string) (added bool, err error) {
	res := s.db.WithContext(ctx).Clauses(s.skipDuplicate("category")).Create(&optOutRow{
		ShopID: shopID, CustomerID: customerID, Category: category, Source: source, CreatedAt: s.Now(),
	})
	if res.Error != nil {
		return false, translate("add opt-out", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// RemoveOptOut undoes an opt-out; removed is false when there was none.
func (s *Store) RemoveOptOut(ctx context.Context, customerID int64, category string) (removed bool, err error) {
	res := s.scoped(ctx, "opt_outs").Where("customer_id = ? AND category = ?", customerID, category).Delete(&optOutRow{})
	if res.Error != nil {
		return false, translate("remove opt-out", res.Error)
	}
	return res.RowsAffected > 0, nil
}

// OptOuts lists a customer's opt-outs by category.
func (s *Store) OptOuts(ctx context.Context, customerID int64) ([]models.OptOutRecord, error) {
	var rows []optOutRow
	if err := s.scoped(ctx, "opt_outs").Where("customer_id = ?", customerID).Order("category").Find(&rows).Error; err != nil {
		return nil, translate("opt-outs", err)
	}
	out := make([]models.OptOutRecord, len(rows))
	for i, r := range rows {
		out[i] = models.OptOutRecord{Category: r.Category, Source: r.Source, CreatedAt: r.CreatedAt}
	}
	return out, nil
}

// CancelPendingByCategory cancels a customer's not-yet-sent actions about a
// category (points bookkeeping excepted) and returns how many.
func (s *Store) CancelPendingByCategory(ctx context.Context, customerID int64, category, reason string) (int64, error) {
	res := s.scoped(ctx, "actions").Model(&ActionRow{}).
		Where("customer_id = ? AND category = ? AND status IN ? AND type NOT IN ?", customerID, category,
			pending,
			[]string{string(models.ActionPointsAward), string(models.ActionPointsRevoke)}).
		Updates(map[string]any{"status": string(models.ActionCancelled), "reason": reason, "updated_at": s.Now()})
	return res.RowsAffected, translate("cancel by category", res.Error)
}

// CustomerMatch is whom FindCustomer found and why; it holds no personal
// data, so that it can be logged.
type CustomerMatch struct {
	CustomerID int64 // 0: none
	// By is the identity kind that matched: models.IdentityID, models.IdentityNumber or models.IdentityEmail.
	By string
	// Refused says why a customer that a weaker identity names was not taken.
	Refused string
}

// FindCustomer finds the customer ref names without creating one, for
// export and erasure. The strongest identity that Treue knows decides; a
// weaker one (number, e-mail) only counts when its customer has no
// contradicting stronger identity: a redact for one shop customer id never
// widens, through a shared e-mail, to a customer with another id.
func (s *Store) FindCustomer(ctx context.Context, shopID int64, ref models.CustomerRef) (CustomerMatch, error) {
	ids := models.Identities(ref)
	if len(ids) == 0 {
		return CustomerMatch{}, nil
	}
	db := s.db.WithContext(ctx)
	var conds []string
	var args []any
	for _, x := range ids {
		conds = append(conds, "(kind = ? AND value = ?)")
		args = append(args, x.Kind, x.Value)
	}
	var found []identityRow
	if err := db.Where("shop_id = ?", shopID).Where(strings.Join(conds, " OR "), args...).Find(&found).Error; err != nil {
		return CustomerMatch{}, translate("find customer", err)
	}
	owner := map[string]int64{}
	var cands []int64
	for _, f := range found {
		owner[f.Kind] = f.CustomerID
		cands = append(cands, f.CustomerID)
	}
	have := map[int64][]models.Identity{}
	if len(cands) > 0 {
		var rows []identityRow
		if err := db.Where("shop_id = ? AND customer_id IN ?", shopID, cands).Find(&rows).Error; err != nil {
			return CustomerMatch{}, translate("find customer: identities", err)
		}
		for _, r := range rows {
			have[r.CustomerID] = append(have[r.CustomerID], models.Identity{Kind: r.Kind, Value: r.Value})
		}
	}
	var m CustomerMatch
	for _, x := range ids {
		cand, ok := owner[x.Kind]
		if !ok {
			continue
		}
		if compatibleWith(have[cand], ids, x.Kind) {
			m.CustomerID, m.By = cand, x.Kind
			return m, nil
		}
		if m.Refused == "" {
			m.Refused = "the " + x.Kind + " belongs to a customer with another " + contradicting(have[cand], ids, x.Kind)
		}
	}
	return m, nil
}

// contradicting names the stronger identity kind on which have and ids
// disagree (see compatibleWith).
func contradicting(have, ids []models.Identity, kind string) string {
	for _, x := range ids {
		if x.Kind == kind {
			break
		}
		for _, h := range have {
			if h.Kind == x.Kind && h.Value != x.Value {
				return x.Kind
			}
		}
	}
	return "identity"
}

// EraseCustomer removes a customer's identities, profile, journey, actions,
// points, opt-outs and access log, blanks the raw payloads their events came
// from, and keeps only a models.Erasure record. Pending actions are cancelled first
// (counted in the record). Call it inside InTx. Later webhooks about the same
// person find no identity and start a fresh profile.
func (s *Store) EraseCustomer(ctx context.Context, shopID, customerID int64, requestedBy string) (*models.Erasure, error) {
	var c customerRow
	if err := s.db.WithContext(ctx).Raw("SELECT * FROM customers"+s.byPrimary()+" WHERE id = ? AND shop_id = ?"+s.forUpdate(false), customerID, shopID).Scan(&c).Error; err != nil {
		return nil, translate("erase: lock customer", err)
	}
	if c.ID == 0 {
		return nil, fmt.Errorf("store: erase customer %d: %w", customerID, models.ErrNotFound)
	}
	db := s.db.WithContext(ctx)
	// Every statement names the shop as well: on Vitess (deploy/vitess)
	// that keeps the erasure on the shop's shard.
	cancelled := db.Model(&ActionRow{}).Where("shop_id = ? AND customer_id = ? AND status IN ?", shopID, customerID,
		[]string{string(models.ActionScheduled), string(models.ActionRetrying), string(models.ActionSending)}).
		Updates(map[string]any{"status": string(models.ActionCancelled), "reason": "customer erased", "updated_at": s.Now()})
	if cancelled.Error != nil {
		return nil, translate("erase: cancel actions", cancelled.Error)
	}
	var inboxIDs, actionIDs []int64
	if err := db.Model(&EventRecord{}).Where("shop_id = ? AND customer_id = ?", shopID, customerID).Distinct("inbox_id").Pluck("inbox_id", &inboxIDs).Error; err != nil {
		return nil, translate("erase: events", err)
	}
	if err := db.Model(&ActionRow{}).Where("shop_id = ? AND customer_id = ?", shopID, customerID).Pluck("id", &actionIDs).Error; err != nil {
		return nil, translate("erase: actions", err)
	}
	var events int64
	if err := db.Model(&EventRecord{}).Where("shop_id = ? AND customer_id = ?", shopID, customerID).Count(&events).Error; err != nil {
		return nil, translate("erase: count events", err)
	}
	if len(inboxIDs) > 0 {
		if err := db.Model(&models.Delivery{}).Where("shop_id = ? AND id IN ?", shopID, inboxIDs).Updates(map[string]any{"body": nil, "headers": "{}"}).Error; err != nil {
			return nil, translate("erase: raw payloads", err)
		}
	}
	if len(actionIDs) > 0 {
		if err := db.Exec("DELETE FROM attempts WHERE shop_id = ? AND action_id IN ?", shopID, actionIDs).Error; err != nil {
			return nil, translate("erase: attempts", err)
		}
	}
	for _, table := range []string{"events", "actions", "points_ledger", "opt_outs", "access_log", "customer_identities",
		"stock_subscriptions"} {
		if err := db.Exec("DELETE FROM "+table+" WHERE shop_id = ? AND customer_id = ?", shopID, customerID).Error; err != nil {
			return nil, translate("erase: "+table, err)
		}
	}
	if err := db.Exec("DELETE FROM customers WHERE shop_id = ? AND id = ?", shopID, customerID).Error; err != nil {
		return nil, translate("erase: customer", err)
	}
	e := &models.Erasure{ShopID: shopID, ErasedAt: s.Now(), RequestedBy: requestedBy, Stage: c.Stage, OrderCount: c.OrderCount,
		TotalSpentCents: c.TotalSpentCents, Events: int(events), Actions: len(actionIDs), CancelledActions: int(cancelled.RowsAffected)}
	if err := db.Create(e).Error; err != nil {
		return nil, translate("erase: audit record", err)
	}
	return e, nil
}

// ShopCustomerIDs lists the ids of a shop's customers.
func (s *Store) ShopCustomerIDs(ctx context.Context, shopID int64) ([]int64, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Model(&customerRow{}).Where("shop_id = ?", shopID).Order("id").Pluck("id", &ids).Error
	return ids, translate("shop customers", err)
}

// Export is everything Treue holds about one customer, as the store reads
// it; the export document is shaped from it elsewhere (package support).
type Export struct {
	Profile    *models.Profile
	Identities []models.Identity
	Events     []EventRecord
	Actions    []models.Action
	Attempts   []models.AttemptRecord
	OptOuts    []models.OptOutRecord
	Points     []models.PointsEntry
	Access     []models.AccessEntry
}

// ExportCustomer gathers everything about a customer (GDPR Art. 15).
func (s *Store) ExportCustomer(ctx context.Context, customerID int64) (*Export, error) {
	x := &Export{}
	var err error
	if x.Profile, err = s.Profile(ctx, customerID); err != nil {
		return nil, err
	}
	if x.Identities, err = s.CustomerIdentities(ctx, customerID); err != nil {
		return nil, err
	}
	if x.Events, err = s.CustomerEvents(ctx, customerID); err != nil {
		return nil, err
	}
	if x.Actions, err = s.CustomerActions(ctx, customerID); err != nil {
		return nil, err
	}
	db := s.db.WithContext(ctx)
	if err := db.Table("attempts").Select("attempts.action_id, attempts.attempt_no, attempts.started_at, attempts.duration_ms, attempts.status_code, attempts.outcome, attempts.summary").
		Joins("JOIN actions ON actions.id = attempts.action_id").Where("actions.customer_id = ?", customerID).
		Order("attempts.action_id, attempts.attempt_no").Scan(&x.Attempts).Error; err != nil {
		return nil, translate("export attempts", err)
	}
	if x.OptOuts, err = s.OptOuts(ctx, customerID); err != nil {
		return nil, err
	}
	if err := db.Model(&pointsRow{}).Select("action_id, delta, reason, created_at").Where("customer_id = ?", customerID).Order("id").Scan(&x.Points).Error; err != nil {
		return nil, translate("export points", err)
	}
	if x.Access, err = s.CustomerAccess(ctx, customerID); err != nil {
		return nil, err
	}
	x.Identities, x.Attempts, x.Points = nonNilSlice(x.Identities), nonNilSlice(x.Attempts), nonNilSlice(x.Points)
	x.Access, x.OptOuts, x.Events, x.Actions = nonNilSlice(x.Access), nonNilSlice(x.OptOuts), nonNilSlice(x.Events), nonNilSlice(x.Actions)
	return x, nil
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// PurgeRawPayloads blanks the bodies of processed deliveries received before
// cutoff, at most limit of them, and returns how many.
func (s *Store) PurgeRawPayloads(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	var ids []int64
	db := s.db.WithContext(ctx)
	if err := db.Model(&models.Delivery{}).Where("status IN ? AND received_at < ? AND body IS NOT NULL", []string{InboxDone, InboxFailed, InboxUnparsed}, cutoff).
		Order("id").Limit(limit).Pluck("id", &ids).Error; err != nil {
		return 0, translate("purge payloads", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	res := db.Model(&models.Delivery{}).Where("id IN ?", ids).Updates(map[string]any{"body": nil, "headers": "{}"})
	return res.RowsAffected, translate("purge payloads", res.Error)
}

// PurgeEvents deletes journey events that happened before cutoff, at most
// limit of them, and returns how many.
func (s *Store) PurgeEvents(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	var ids []int64
	db := s.db.WithContext(ctx)
	if err := db.Model(&EventRecord{}).Where("occurred_at < ?", cutoff).Order("id").Limit(limit).Pluck("id", &ids).Error; err != nil {
		return 0, translate("purge events", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	res := db.Where("id IN ?", ids).Delete(&EventRecord{})
	return res.RowsAffected, translate("purge events", res.Error)
}
