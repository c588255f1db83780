package store

import (
	"context"
	"slices"
	"time"

	"github.com/treue/treue/models"
)

// ReportAction is an action as the rules report reads it.
type ReportAction struct {
	ID         int64
	CustomerID int64
	RuleID     string
	Type       string
	Status     string
	// Holdout: suppressed because the customer is in the holdout group.
	Holdout bool
	DueAt   time.Time
	SentAt  *time.Time
	// ExternalRef is what the shop created, such as the promo code.
	ExternalRef *string
	// Params are the action's params for promo codes and points awards,
	// the only ones whose params the report reads; "" for the others.
	Params string
	SKU    string
	// Marketing: the rule is a marketing rule (consent, caps and the
	// holdout apply); service actions are not touches.
	Marketing bool
}

// reportParamsTypes are the action types whose params the report reads;
// the report's index holds them up to 96 characters (actions.report_params,
// migration 10).
var reportParamsTypes = []string{"promo_code", "points_award"}

// ReportActions streams the actions of a shop due in [from, to) to fn, a
// batch at a time. The query reads the report's index alone (migration 10):
// the holdout flag and short params are generated columns it covers. The
// few actions whose params are too long for the index are fetched by id
// once the stream is read, and handed on last.
func (s *Store) ReportActions(ctx context.Context, shopID int64, from, to time.Time, fn func([]ReportAction) error) error {
	rows, err := s.db.WithContext(ctx).Model(&ActionRow{}).
		Select("id, customer_id, rule_id, type, status, holdout, due_at, sent_at, external_ref, report_params, sku, marketing").
		Where("shop_id = ? AND due_at >= ? AND due_at < ?", shopID, from, to).Rows()
	if err != nil {
		return translate("report actions", err)
	}
	defer rows.Close()
	batch := make([]ReportAction, 0, reportBatch)
	var long []ReportAction
	for rows.Next() {
		var a ReportAction
		if err := rows.Scan(&a.ID, &a.CustomerID, &a.RuleID, &a.Type, &a.Status, &a.Holdout, &a.DueAt, &a.SentAt, &a.ExternalRef, &a.Params, &a.SKU, &a.Marketing); err != nil {
			return translate("report actions", err)
		}
		if a.Params == "" && slices.Contains(reportParamsTypes, a.Type) {
			long = append(long, a)
			continue
		}
		if batch = append(batch, a); len(batch) == reportBatch {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return translate("report actions", err)
	}
	rows.Close() // SQLite has one connection: free it for the next query
	if err := fn(batch); err != nil || len(long) == 0 {
		return err
	}
	return s.reportLongParams(ctx, long, fn)
}

// reportLongParams reads the params of actions the report's index cut.
func (s *Store) reportLongParams(ctx context.Context, as []ReportAction, fn func([]ReportAction) error) error {
	for chunk := range slices.Chunk(as, 500) {
		ids := make([]int64, len(chunk))
		for i, a := range chunk {
			ids[i] = a.ID
		}
		var ps []struct {
			ID     int64
			Params string
		}
		if err := s.db.WithContext(ctx).Model(&ActionRow{}).Select("id, params").Where("id IN ?", ids).Scan(&ps).Error; err != nil {
			return translate("report action params", err)
		}
		byID := make(map[int64]string, len(ps))
		for _, p := range ps {
			byID[p.ID] = p.Params
		}
		for i := range chunk {
			chunk[i].Params = byID[chunk[i].ID]
		}
		if err := fn(chunk); err != nil {
			return err
		}
	}
	return nil
}

// reportBatch is how many rows the reports hand on at a time.
const reportBatch = 5000

// ReportEvent is a journey event as the reports read it: the order's
// figures decoded, nothing else.
type ReportEvent struct {
	ID         int64
	CustomerID int64
	Type       string
	OccurredAt time.Time
	OrderRef   string
	// Order figures (order.placed), refund amount (refund.issued).
	Total, Currency, Coupon, Refund string
	Test                            bool
}

// reportEventTypes are the events outcomes are made of.
var reportEventTypes = []string{"order.placed", "order.cancelled", "refund.issued", "review.submitted"}

// ReportEvents streams a shop's order, refund and review events that
// happened in [from, to) to fn, a batch at a time, with one query. It reads
// the figures from their columns, which the report's index covers: the
// query never touches the events' JSON documents.
func (s *Store) ReportEvents(ctx context.Context, shopID int64, from, to time.Time, fn func([]ReportEvent) error) error {
	rows, err := s.db.WithContext(ctx).Model(&EventRecord{}).
		Select("id, customer_id, type, occurred_at, order_ref, amount, currency, coupon, test_order").
		Where("shop_id = ? AND type IN ? AND occurred_at >= ? AND occurred_at < ?", shopID, reportEventTypes, from, to).Rows()
	if err != nil {
		return translate("report events", err)
	}
	defer rows.Close()
	batch := make([]ReportEvent, 0, reportBatch)
	for rows.Next() {
		var e ReportEvent
		var amount string
		if err := rows.Scan(&e.ID, &e.CustomerID, &e.Type, &e.OccurredAt, &e.OrderRef, &amount, &e.Currency, &e.Coupon, &e.Test); err != nil {
			return translate("report events", err)
		}
		if e.Type == string(models.RefundIssued) {
			e.Refund = amount
		} else {
			e.Total = amount
		}
		if batch = append(batch, e); len(batch) == reportBatch {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return translate("report events", err)
	}
	return fn(batch)
}
