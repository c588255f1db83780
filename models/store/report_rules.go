package store

import (
	"context"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"gorm.io/gorm"
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
}

// ReportActions streams the actions of a shop due in [from, to), in id
// order, a batch at a time, to fn.
func (s *Store) ReportActions(ctx context.Context, shopID int64, from, to time.Time, fn func([]ReportAction) error) error {
	var batch []ReportAction
	res := s.db.WithContext(ctx).Model(&ActionRow{}).
		Select("id, customer_id, rule_id, type, status, reason, due_at, sent_at, external_ref, params").
		Where("shop_id = ? AND due_at >= ? AND due_at < ?", shopID, from, to).
		FindInBatches(&batch, 5000, func(*gorm.DB, int) error { return fn(batch) })
	return translate("report actions", res.Error)
}

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
// happened in [from, to), a batch at a time, to fn.
func (s *Store) ReportEvents(ctx context.Context, shopID int64, from, to time.Time, fn func([]ReportEvent) error) error {
	var rows []EventRecord
	var out []ReportEvent
	res := s.db.WithContext(ctx).Model(&EventRecord{}).
		Select("id, customer_id, type, occurred_at, order_ref, data").
		Where("shop_id = ? AND type IN ? AND occurred_at >= ? AND occurred_at < ?", shopID, reportEventTypes, from, to).
		FindInBatches(&rows, 5000, func(*gorm.DB, int) error {
			out = out[:0]
			for i := range rows {
				e, err := reportEvent(&rows[i])
				if err != nil {
					return err
				}
				out = append(out, e)
			}
			return fn(out)
		})
	return translate("report events", res.Error)
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
