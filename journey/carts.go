package journey

import (
	"time"

	"github.com/treue/treue/models"
)

// cartProfile fills the profile's cart fields from the sorted journey.
func cartProfile(p *models.Profile, evs []models.Event) {
	for i := range evs {
		e := &evs[i]
		switch e.Type {
		case models.CartAbandoned:
			p.AbandonedCarts++
		case models.CartUpdated, models.CheckoutStarted:
			at := e.OccurredAt()
			p.LastCartAt = &at
		}
	}
}

// AbandonedCarts derives the cart.abandoned events a journey is due at now:
// one for each cart whose last update (cart.updated or checkout.started) is
// at least after old, that no order holding one of its items followed, and
// that has no cart.abandoned for that update yet. The event happens at the
// last update plus after, so that it is the same whenever a pass finds it;
// it carries the cart as last updated and the customer as that update named
// them. Only abandonments of the last window are derived: turning the
// feature on, or a pass after a long outage, does not remind customers of
// carts long gone.
func AbandonedCarts(history []models.Event, now time.Time, after, window time.Duration) []models.Event {
	if after <= 0 {
		return nil
	}
	type cart struct {
		last      *models.Event
		abandoned map[string]bool // step keys of the cart's cart.abandoned
	}
	carts := map[string]*cart{}
	var ids []string
	evs := sorted(history)
	for i := range evs {
		e := &evs[i]
		if !e.Type.IsCart() || e.Data.Cart == nil || e.Data.Cart.ID == "" {
			continue
		}
		c := carts[e.Data.Cart.ID]
		if c == nil {
			c = &cart{abandoned: map[string]bool{}}
			carts[e.Data.Cart.ID] = c
			ids = append(ids, e.Data.Cart.ID)
		}
		if e.Type == models.CartAbandoned {
			c.abandoned[e.StepKey()] = true
			continue
		}
		c.last = e
	}
	var out []models.Event
	for _, id := range ids {
		c := carts[id]
		if c.last == nil {
			continue
		}
		updated := c.last.OccurredAt()
		at := updated.Add(after)
		if at.After(now) || (window > 0 && !at.After(now.Add(-window))) {
			continue
		}
		cartCopy := *c.last.Data.Cart
		cartCopy.UpdatedAt = &updated
		e := models.Event{Type: models.CartAbandoned, Timestamp: at,
			Data: models.EventData{Customer: c.last.Data.Customer, Cart: &cartCopy}}
		if c.abandoned[e.StepKey()] || orderedSince(evs, cartCopy.SKUs(), updated) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// orderedSince reports whether an order placed (or paid: its placement may
// not have arrived) at or after from holds one of skus.
func orderedSince(evs []models.Event, skus []string, from time.Time) bool {
	for i := range evs {
		e := &evs[i]
		if (e.Type == models.OrderPlaced || e.Type == models.OrderPaid) && !e.OccurredAt().Before(from) && models.OrderHasAny(e.Data.Order, skus) {
			return true
		}
	}
	return false
}
