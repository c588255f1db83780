package process

import (
	"context"
	"fmt"

	"github.com/treue/treue/models"
)

// withRefundCurrency gives a refund whose payload names no currency its
// order's: Shopify's refunds/create need not carry one, nor does a credit
// memo whose subscription leaves out order_currency_code, and the timeline
// would read "85.00 ". The currency is the event's own order data, else the
// first of the customer's recorded events of that order that has one, else
// the shop's. The event is returned changed, never the refund it shares with
// the parsed delivery.
func withRefundCurrency(ctx context.Context, j ProfileJournal, shop *models.Shop, customerID int64, e models.Event) (models.Event, error) {
	r, o := e.Data.Refund, e.Data.Order
	if r == nil || r.Currency != "" {
		return e, nil
	}
	currency := ""
	if o != nil {
		currency = o.Currency
		if currency == "" && o.ID != "" {
			_, history, err := j.Journey(ctx, customerID)
			if err != nil {
				return e, fmt.Errorf("currency of order %s: %w", o.ID, err)
			}
			for i := range history {
				if h := history[i].Data.Order; h != nil && h.ID == o.ID && h.Currency != "" {
					currency = h.Currency
					break
				}
			}
		}
	}
	if currency == "" {
		currency = shop.Currency
	}
	if currency == "" {
		return e, nil
	}
	filled := *r
	filled.Currency = currency
	e.Data.Refund = &filled
	return e, nil
}
