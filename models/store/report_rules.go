package store

import (
	"context"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"
)

// ReportAction is an action as the rules report reads it.
type ReportAction struct {
	ID         int64
	CustomerID int64
	RuleID     string
	Type       string
	Status     string
	Reason     *string
	DueAt      time.Time
	SentAt     *time.Time
	// ExternalRef is what the shop created, such as the promo code.
	ExternalRef *string
	Params      string
	SKU         string
	// Marketing: the rule is a marketing rule (consent, caps and the
	// holdout apply); service actions are not touches.
	Marketing bool
}

// ReportActions streams the actions of a shop due in [from, to) to fn, a
// batch at a time, with one query: the rows are read as they arrive.
func (s *Store) ReportActions(ctx context.Context, shopID int64, from, to time.Time, fn func([]ReportAction) error) error {
	rows, err := s.db.WithContext(ctx).Model(&ActionRow{}).
		Select("id, customer_id, rule_id, type, status, reason, due_at, sent_at, external_ref, params, sku, marketing").
		Where("shop_id = ? AND due_at >= ? AND due_at < ?", shopID, from, to).Rows()
	if err != nil {
		return translate("report actions", err)
	}
	defer rows.Close()
	batch := make([]ReportAction, 0, reportBatch)
	for rows.Next() {
		var a ReportAction
		if err := rows.Scan(&a.ID, &a.CustomerID, &a.RuleID, &a.Type, &a.Status, &a.Reason, &a.DueAt, &a.SentAt, &a.ExternalRef, &a.Params, &a.SKU, &a.Marketing); err != nil {
			return translate("report actions", err)
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
	return fn(batch)
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
// happened in [from, to) to fn, a batch at a time, with one query.
func (s *Store) ReportEvents(ctx context.Context, shopID int64, from, to time.Time, fn func([]ReportEvent) error) error {
	rows, err := s.db.WithContext(ctx).Model(&EventRecord{}).
		Select("id, customer_id, type, occurred_at, order_ref, data").
		Where("shop_id = ? AND type IN ? AND occurred_at >= ? AND occurred_at < ?", shopID, reportEventTypes, from, to).Rows()
	if err != nil {
		return translate("report events", err)
	}
	defer rows.Close()
	batch := make([]ReportEvent, 0, reportBatch)
	var r EventRecord
	for rows.Next() {
		if err := rows.Scan(&r.ID, &r.CustomerID, &r.Type, &r.OccurredAt, &r.OrderRef, &r.Data); err != nil {
			return translate("report events", err)
		}
		e, err := reportEvent(&r)
		if err != nil {
			return err
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

// reportData is the part of an event's data the reports read; decoding
// only it keeps a report over a million events fast.
type reportData struct {
	Order *struct {
		Total    string `json:"total"`
		Currency string `json:"currency"`
		Coupon   string `json:"coupon"`
		Test     bool   `json:"test"`
	} `json:"order"`
	Refund *struct {
		Amount   string `json:"amount"`
		Currency string `json:"currency"`
	} `json:"refund"`
}

func reportEvent(r *EventRecord) (ReportEvent, error) {
	e := ReportEvent{ID: r.ID, CustomerID: r.CustomerID, Type: r.Type, OccurredAt: r.OccurredAt, OrderRef: r.OrderRef}
	if r.Type == "review.submitted" || r.Type == "order.cancelled" {
		return e, nil
	}
	var d reportData
	if err := json.Unmarshal([]byte(r.Data), &d); err != nil {
		return e, translate("report event "+r.Type, err)
	}
	if o := d.Order; o != nil {
		e.Total, e.Currency, e.Coupon, e.Test = o.Total, o.Currency, strings.TrimSpace(o.Coupon), o.Test
	}
	if f := d.Refund; f != nil {
		e.Refund = f.Amount
		if e.Currency == "" {
			e.Currency = f.Currency
		}
	}
	return e, nil
}
