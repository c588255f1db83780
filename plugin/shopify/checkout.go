package shopify

import (
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

// checkout is the REST checkout resource of checkouts/create and
// checkouts/update (what the admin lists as an abandoned checkout).
type checkout struct {
	ID          id         `json:"id"`
	Token       string     `json:"token"`
	Email       string     `json:"email"`
	CreatedAt   string     `json:"created_at"`
	UpdatedAt   string     `json:"updated_at"`
	CompletedAt string     `json:"completed_at"`
	Currency    string     `json:"currency"`
	TotalPrice  money      `json:"total_price"`
	LineItems   []lineItem `json:"line_items"`
	Customer    *customer  `json:"customer"`
}

// checkoutEvent maps checkouts/create (checkout.started) and
// checkouts/update (cart.updated). The cart is keyed by the checkout's
// token, which both topics share, and each update by its updated_at.
//
// Two kinds of checkout map to nothing, acknowledged like a topic Treue does
// not use: a completed one (completed_at set: the order arrives through
// orders/create, and the checkout is no longer a cart to remind of), and
// an anonymous one, which Shopify sends as soon as a visitor opens the
// checkout, before any e-mail is typed: nothing names a customer whose
// journey it could join, and storing it unparsed would fill the inbox
// with every visitor's checkout. A later update with the e-mail brings it.
func checkoutEvent(typ models.EventType) mapper {
	return func(body []byte, fallback time.Time) ([]models.Event, error) {
		var c checkout
		if err := plugin.DecodeJSON("shopify", body, &c); err != nil {
			return nil, err
		}
		var v models.ValidationError
		created := timeField(&v, "created_at", c.CreatedAt)
		updated := timeField(&v, "updated_at", c.UpdatedAt)
		completed := timeField(&v, "completed_at", c.CompletedAt)
		if err := v.Err(); err != nil {
			return nil, err
		}
		var ref models.CustomerRef
		if c.Customer != nil {
			ref = c.Customer.ref()
		}
		if ref.Email == "" {
			ref.Email = firstNonEmpty(c.Email)
		}
		if completed != nil || ref.Empty() {
			return nil, nil
		}
		at := firstTime(fallback, updated, created)
		cart := &models.Cart{ID: firstNonEmpty(c.Token, string(c.ID)), Currency: c.Currency,
			Total: models.Money(c.TotalPrice), UpdatedAt: &at}
		for _, li := range c.LineItems {
			if it, ok := li.toLineItem(); ok {
				cart.Items = append(cart.Items, it)
			}
		}
		return []models.Event{{Type: typ, Timestamp: at, Data: models.EventData{Customer: ref, Cart: cart}}}, nil
	}
}
