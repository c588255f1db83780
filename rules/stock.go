package rules

import (
	"slices"
	"time"

	"github.com/treue/treue/models"
)

// StockEnv is what a back-in-stock event says: the SKU of a subscription
// (stock.subscribed, stock.unsubscribed) and, for a notice
// (stock.available), the restock and the subscriber's place in its queue.
type StockEnv struct {
	SKU          string    `expr:"sku"`
	SubscribedAt time.Time `expr:"subscribed_at"`
	RestockAt    time.Time `expr:"restock_at"`
	// Rank is the subscriber's place (1: the oldest subscription) of
	// Subscribers; Slot of Slots is the hour after the restock the notice
	// is due in, at PerHour notices per hour; SlotAt is its start.
	Rank        int       `expr:"rank"`
	Subscribers int       `expr:"subscribers"`
	PerHour     int       `expr:"per_hour"`
	Slot        int       `expr:"slot"`
	Slots       int       `expr:"slots"`
	SlotAt      time.Time `expr:"slot_at"`
}

func stockEnv(s *StockEnv, d *models.EventData) {
	*s = StockEnv{}
	if sub := d.Subscription; sub != nil {
		s.SKU = sub.SKU
		if sub.At != nil {
			s.SubscribedAt = sub.At.UTC()
		}
	}
	if r := d.Restock; r != nil {
		*s = StockEnv{SKU: r.SKU, SubscribedAt: r.SubscribedAt.UTC(), RestockAt: r.RestockAt.UTC(), Rank: r.Rank,
			Subscribers: r.Subscribers, PerHour: r.PerHour, Slot: r.Slot, Slots: r.Slots, SlotAt: r.SlotAt.UTC()}
	}
}

// OutOfStock cancels a back-in-stock notice whose SKU sold out again before
// its slot; the subscription waits for the next restock.
const OutOfStock = "out_of_stock"

// soldOut is the reason a stock.sold_out cancels pending action p: p answers
// a rule on stock.available, is about the SKU, and is due after the SKU
// sold out.
func soldOut(r *Rule, p *Pending, e *models.Event, sku string) string {
	if r == nil || sku == "" || p.SKU != sku || !slices.Contains(r.Triggers, models.StockAvailable) || !p.DueAt.After(e.OccurredAt()) {
		return ""
	}
	return OutOfStock
}
