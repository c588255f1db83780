package rules

import (
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
