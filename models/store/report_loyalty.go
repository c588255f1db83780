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

// LoyaltyJourneys returns the journeys of customers (a page of the ids
// ShopCustomerIDs lists), in the order given; a customer without events
// comes back with none. The query names only the customers, not the shop:
// with the shop in it, SQLite reads the shop's every event through the
// order index for each page.
func (s *Store) LoyaltyJourneys(ctx context.Context, customerIDs []int64) ([]LoyaltyJourney, error) {
	if len(customerIDs) == 0 {
		return nil, nil
	}
	var rows []loyaltyEventRow
	err := s.db.WithContext(ctx).Table("events").Select("id, customer_id, type, occurred_at, data").
		Where("customer_id IN ?", customerIDs).Order("customer_id, occurred_at, id").Scan(&rows).Error
	if err != nil {
		return nil, translate("loyalty events", err)
	}
	out := make([]LoyaltyJourney, len(customerIDs))
	at := make(map[int64]int, len(customerIDs))
	for i, id := range customerIDs {
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
