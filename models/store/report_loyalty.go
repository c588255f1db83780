package store

import (
	"context"
	"time"

	"github.com/treue/treue/models"
)

// loyaltyEventRow holds the columns the report needs, all in the
// customer index (migration 10): the query reads no event document.
type loyaltyEventRow struct {
	ID         int64
	CustomerID int64
	Type       string
	OccurredAt time.Time
	OrderRef   string
	Amount     string
	TestOrder  bool
	PlacedAt   *time.Time
}

// LoyaltyJourneys returns the journeys of customers (a page of the ids
// ShopCustomerIDs lists), in the order given; a customer without events
// comes back with none. The query names only the customers, not the shop:
// with the shop in it, SQLite reads the shop's every event through the
// order index for each page.
func (s *Store) LoyaltyJourneys(ctx context.Context, customerIDs []int64) ([]models.LoyaltyJourney, error) {
	if len(customerIDs) == 0 {
		return nil, nil
	}
	rows, err := s.db.WithContext(ctx).Table("events").Select("id, customer_id, type, occurred_at, order_ref, amount, test_order, placed_at").
		Where("customer_id IN ?", customerIDs).Order("customer_id, occurred_at, id").Rows()
	if err != nil {
		return nil, translate("loyalty events", err)
	}
	defer rows.Close()
	out := make([]models.LoyaltyJourney, len(customerIDs))
	at := make(map[int64]int, len(customerIDs))
	for i, id := range customerIDs {
		out[i].CustomerID = id
		at[id] = i
	}
	// One backing array for the page's events, cut into journeys once the
	// rows are read (they come by customer): appending to each journey
	// instead grew a slice per customer.
	all := make([]models.Event, 0, 10*len(customerIDs))
	owner := make([]int, 0, cap(all))
	var r loyaltyEventRow
	for rows.Next() {
		// Scanned by hand: reflection per row cost a third of the report.
		if err := rows.Scan(&r.ID, &r.CustomerID, &r.Type, &r.OccurredAt, &r.OrderRef, &r.Amount, &r.TestOrder, &r.PlacedAt); err != nil {
			return nil, translate("loyalty events", err)
		}
		all = append(all, r.event())
		owner = append(owner, at[r.CustomerID])
	}
	if err := rows.Err(); err != nil {
		return nil, translate("loyalty events", err)
	}
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && owner[j] == owner[i] {
			j++
		}
		out[owner[i]].Events = all[i:j:j]
		i = j
	}
	return out, nil
}

func (r *loyaltyEventRow) event() models.Event {
	e := models.Event{Type: models.EventType(r.Type), Timestamp: r.OccurredAt.UTC()}
	if r.OrderRef != "" {
		o := &models.Order{ID: r.OrderRef, Test: r.TestOrder}
		if r.PlacedAt != nil {
			at := r.PlacedAt.UTC()
			o.PlacedAt = &at
		}
		if e.Type == models.OrderPlaced {
			o.Total = models.Money(r.Amount)
		}
		e.Data.Order = o
	}
	if e.Type == models.RefundIssued {
		e.Data.Refund = &models.Refund{Amount: models.Money(r.Amount)}
	}
	return e
}
