package rules

import (
	"time"

	"github.com/treue/treue/models"
)

// Carts: the cart variable, the once_per cart scope, the cart_ordered
// cancel and the guardrail that keeps a cart reminder from going out for a
// cart that was ordered after all.

// PerCart counts a rule once per cart (the event's data.cart.id).
const PerCart Scope = "cart"

// cartOrdered is the reason of a cart action cancelled by an order holding
// one of the cart's items, and of one suppressed because such an order,
// arriving late, happened before the cart was found abandoned.
const cartOrdered = "cart_ordered"

// CartEnv is the event's cart: set for cart.updated, checkout.started and
// cart.abandoned, empty otherwise.
type CartEnv struct {
	ID         string    `expr:"id"`
	Items      []ItemEnv `expr:"items"`
	SKUs       []string  `expr:"skus"`
	ItemCount  int       `expr:"item_count"`
	TotalCents int64     `expr:"total_cents"`
	Total      float64   `expr:"total"`
	Currency   string    `expr:"currency"`
	UpdatedAt  time.Time `expr:"updated_at"`
	// Ordered reports whether an order holding one of the cart's items
	// followed its last update, as far as the journey knows at the event.
	Ordered bool `expr:"ordered"`
}

// CartState is what the journey knows about carts beyond the event: the
// cart of every cart event so far (by event id), which the cart_ordered
// cancel matches orders against, and whether the event's own cart was
// ordered since its last update. Build it with CartFromEvents.
type CartState struct {
	ByEvent map[int64]*models.Cart
	Ordered bool
}

// CartFromEvents builds the cart state of the last of history (a journey in
// source-time order, ids index for index); nil when the journey has no cart.
func CartFromEvents(ids []int64, history []models.Event) *CartState {
	var st *CartState
	for i := range history {
		e := &history[i]
		if e.Type.IsCart() && e.Data.Cart != nil && i < len(ids) {
			if st == nil {
				st = &CartState{ByEvent: map[int64]*models.Cart{}}
			}
			st.ByEvent[ids[i]] = e.Data.Cart
		}
	}
	if st == nil || len(history) == 0 {
		return st
	}
	last := &history[len(history)-1]
	if c := last.Data.Cart; last.Type.IsCart() && c != nil {
		from := last.OccurredAt()
		if c.UpdatedAt != nil && !c.UpdatedAt.IsZero() {
			from = c.UpdatedAt.UTC()
		}
		skus := c.SKUs()
		for i := range history[:len(history)-1] {
			e := &history[i]
			if isOrderEvent(e.Type) && !e.OccurredAt().Before(from) && models.OrderHasAny(e.Data.Order, skus) {
				st.Ordered = true
			}
		}
	}
	return st
}

// cartEnv fills env.Cart from the event's cart.
func (s *Set) cartEnv(c *CartEnv, in *Input) {
	*c = CartEnv{}
	cart := in.Event.Data.Cart
	if cart == nil || !in.Event.Type.IsCart() {
		return
	}
	c.ID, c.Currency, c.SKUs = cart.ID, cart.Currency, cart.SKUs()
	c.ItemCount = cart.Quantity()
	c.Items = make([]ItemEnv, len(cart.Items))
	var sum int64
	for i := range cart.Items {
		c.Items[i] = s.itemEnv(&cart.Items[i], i)
		sum += c.Items[i].TotalCents
	}
	c.TotalCents = cents(cart.Total)
	if cart.Total == "" {
		c.TotalCents = sum
	}
	c.Total = float64(c.TotalCents) / 100
	c.UpdatedAt = in.Event.OccurredAt()
	if cart.UpdatedAt != nil && !cart.UpdatedAt.IsZero() {
		c.UpdatedAt = cart.UpdatedAt.UTC()
	}
	c.Ordered = in.Cart != nil && in.Cart.Ordered
}

// cartKey is the once_per cart part of an idempotency key.
func (ev *evaluation) cartKey() (string, bool) {
	if ev.env.Cart.ID == "" {
		return "", false
	}
	return "|cart:" + ev.env.Cart.ID, true
}

// cartCancel is the cart_ordered cancel: an order holding one of the items
// of the cart whose event planned p.
func (ev *evaluation) cartCancel(p *Pending) bool {
	if !isOrderEvent(ev.in.Event.Type) || ev.in.Cart == nil {
		return false
	}
	c := ev.in.Cart.ByEvent[p.TriggerEventID]
	return c != nil && models.OrderHasAny(ev.in.Event.Data.Order, c.SKUs())
}

// cartGuard is the guardrail of actions planned for an abandoned cart: an
// order with its items that happened before the cart was found abandoned,
// but arrived after, means the cart was not abandoned; such an action is
// suppressed (a later order cancels it through cart_ordered instead).
func (ev *evaluation) cartGuard() bool {
	return ev.in.Event.Type == models.CartAbandoned && ev.env.Cart.Ordered
}

// cartScope checks a once_per cart limit: only cart events have a cart.
func (c *compiler) cartScope(l *limitSpec, r *Rule) {
	if r.Scan {
		c.errorf(l.OncePer.Pos, "once_per cart needs a cart event; daily_scan rules count per customer or sku")
		return
	}
	for _, t := range r.Triggers {
		if !t.IsCart() {
			c.errorf(l.OncePer.Pos, "once_per cart needs cart events (cart.updated, checkout.started, cart.abandoned); %s has no cart", t)
			return
		}
	}
}

// cartCustomer fills the profile's cart fields into customer.
func cartCustomer(c *CustomerEnv, p *models.Profile) {
	c.AbandonedCarts = p.AbandonedCarts
	if p.LastCartAt != nil {
		c.LastCartAt = p.LastCartAt.UTC()
	}
}
