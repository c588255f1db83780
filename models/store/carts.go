package store

import (
	"context"
	"time"
)

// cartTypes are the events a cart's updates are recorded as.
var cartTypes = []string{"cart.updated", "checkout.started"}

// CartCustomers lists the customers of a shop with a cart update that
// happened in [from, to), by id: those whose carts may have become
// abandoned. It reads the (shop_id, type, occurred_at, customer_id) index.
func (s *Store) CartCustomers(ctx context.Context, shopID int64, from, to time.Time) ([]int64, error) {
	var ids []int64
	err := s.scoped(ctx, "events").Model(&EventRecord{}).Distinct("customer_id").
		Where("shop_id = ? AND type IN ? AND occurred_at >= ? AND occurred_at < ?", shopID, cartTypes, from.UTC(), to.UTC()).
		Order("customer_id").Pluck("customer_id", &ids).Error
	return ids, translate("cart customers", err)
}

// cartEventTypes are the events about a cart, sent or derived.
var cartEventTypes = []string{"cart.updated", "checkout.started", "cart.abandoned"}

// triggerDataTypes are the triggers whose data the timeline reads with the actions that answered them.
var triggerDataTypes = append([]string{"stock.available"}, cartEventTypes...)
