package models

import "time"

// Cart events: what a shop says about a customer's cart before an order,
// and the abandonment Treue derives from them.
const (
	CartUpdated     EventType = "cart.updated"
	CheckoutStarted EventType = "checkout.started"
	// CartAbandoned is derived: Treue records it when a cart's last update
	// is carts.abandon_after old and no order with its items followed. A
	// shop cannot send it.
	CartAbandoned EventType = "cart.abandoned"
)

// Cart is a customer's cart (Shopify: a checkout; Magento: a quote) as it
// stood at one update.
type Cart struct {
	ID       string     `json:"id"`
	Items    []LineItem `json:"items,omitempty"`
	Total    Money      `json:"total,omitempty"`
	Currency string     `json:"currency,omitempty"`
	// UpdatedAt is when the shop last changed the cart. Each update is a step
	// of its own (cart id + updated_at); a repeated delivery of one is kept once.
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// IsCart reports whether t is about a cart (sent or derived).
func (t EventType) IsCart() bool {
	return t == CartUpdated || t == CheckoutStarted || t == CartAbandoned
}

// SKUs lists the cart's SKUs (product ids for lines without one), each once.
func (c *Cart) SKUs() []string {
	out := make([]string, 0, len(c.Items))
	for _, it := range c.Items {
		k := it.SKU
		if k == "" {
			k = it.ProductID
		}
		if k != "" && !containsString(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// Quantity is the number of units in the cart.
func (c *Cart) Quantity() int {
	n := 0
	for _, it := range c.Items {
		n += it.Quantity
	}
	return n
}

// OrderHasAny reports whether an order holds at least one of skus (matched
// by SKU, or by product id for lines without one). It is what "an order
// containing the cart's items" means for abandonment and for the reminder's
// cancellation: a customer who bought from the cart, even without every
// line, is not reminded of it.
func OrderHasAny(o *Order, skus []string) bool {
	if o == nil {
		return false
	}
	for _, it := range o.Items {
		if (it.SKU != "" && containsString(skus, it.SKU)) || (it.ProductID != "" && containsString(skus, it.ProductID)) {
			return true
		}
	}
	return false
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// validateCart checks a cart event's data.cart.
func (e *Event) validateCart(v *ValidationError) {
	d := &e.Data
	switch e.Type {
	case CartAbandoned:
		v.Add("type", "cart.abandoned is derived by Treue (carts.abandon_after); send cart.updated or checkout.started")
		return
	case CartUpdated, CheckoutStarted:
		if d.Cart == nil || d.Cart.ID == "" {
			v.Add("data.cart.id", "is required for %s", e.Type)
		}
	}
	c := d.Cart
	if c == nil {
		return
	}
	if c.Total != "" && !c.Total.Valid() {
		v.Add("data.cart.total", "must be a decimal string such as \"59.80\"")
	}
	if c.Currency != "" && !currencyRE.MatchString(c.Currency) {
		v.Add("data.cart.currency", "must be an ISO 4217 code such as EUR")
	}
	validateItems(v, "data.cart.items", c.Items)
}

// cartOccurredAt is when a cart event happened: the cart's update time
// where the payload has it.
func (e *Event) cartOccurredAt() (time.Time, bool) {
	if c := e.Data.Cart; c != nil && c.UpdatedAt != nil && !c.UpdatedAt.IsZero() {
		if e.Type == CartAbandoned {
			return time.Time{}, false // dated by its envelope: the abandonment moment
		}
		return c.UpdatedAt.UTC(), true
	}
	return time.Time{}, false
}

// cartStepKey keeps every update of a cart (id + update time) once; an
// abandonment is keyed by the update it follows, so each pass that finds
// the same abandoned cart records it once.
func (e *Event) cartStepKey() string {
	id, at := "", e.Timestamp.UTC()
	if c := e.Data.Cart; c != nil {
		id = c.ID
		if c.UpdatedAt != nil && !c.UpdatedAt.IsZero() {
			at = c.UpdatedAt.UTC()
		}
	}
	return string(e.Type) + "|" + id + "|" + at.Format(time.RFC3339Nano)
}
