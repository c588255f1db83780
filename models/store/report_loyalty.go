package store

import (
	"context"
	"fmt"
	"time"

	"github.com/treue/treue/models"
)

// LoyaltyJourney is one customer's journey as the loyalty report reads it:
// every event, decoded, in source-time order.
type LoyaltyJourney struct {
	CustomerID int64
	Events     []models.Event
}

// loyaltyEventRow holds the columns the report needs; the rest of an event
// row (delivery ids, step keys, the inbox link) is not read.
type loyaltyEventRow struct {
	ID         int64
	CustomerID int64
	Type       string
	OccurredAt time.Time
	Data       string
}

// LoyaltyJourneys returns the journeys of up to limit customers of a shop
// whose ids are above afterID, in id order: one query for the ids (the
// primary key), one for their events (the customer index). A customer
// without events comes back with none, so that fewer than limit journeys
// mean the shop has no more customers; the next page starts after the last
// CustomerID returned.
func (s *Store) LoyaltyJourneys(ctx context.Context, shopID, afterID int64, limit int) ([]LoyaltyJourney, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Model(&customerRow{}).Where("shop_id = ? AND id > ?", shopID, afterID).
		Order("id").Limit(limit).Pluck("id", &ids).Error
	if err != nil {
		return nil, translate("loyalty customers", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []loyaltyEventRow
	err = s.db.WithContext(ctx).Table("events").Select("id, customer_id, type, occurred_at, data").
		Where("shop_id = ? AND customer_id IN ?", shopID, ids).Order("customer_id, occurred_at, id").Scan(&rows).Error
	if err != nil {
		return nil, translate("loyalty events", err)
	}
	out := make([]LoyaltyJourney, len(ids))
	at := make(map[int64]int, len(ids))
	for i, id := range ids {
		out[i].CustomerID = id
		at[id] = i
	}
	for _, r := range rows {
		rec := EventRecord{ID: r.ID, CustomerID: r.CustomerID, Type: r.Type, OccurredAt: r.OccurredAt.UTC(), Data: r.Data}
		e, err := rec.Event()
		if err != nil {
			return nil, fmt.Errorf("store: loyalty journeys: %w", err)
		}
		j := &out[at[r.CustomerID]]
		j.Events = append(j.Events, e)
	}
	return out, nil
}

// LoyaltyCustomerCount counts a shop's customers, for the report's progress.
func (s *Store) LoyaltyCustomerCount(ctx context.Context, shopID int64) (int, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&customerRow{}).Where("shop_id = ?", shopID).Count(&n).Error; err != nil {
		return 0, translate("loyalty customer count", err)
	}
	return int(n), nil
}
