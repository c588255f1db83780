package plugin

import (
	"context"
	"time"

	"github.com/treue/treue/models"
)

// OrderReader reads a shop's orders, with their payment, delivery and return
// states, from the shop's own API: for the history import on installation
// and for the reconciliation that finds steps whose webhooks were lost. It
// is an optional ability of a platform (Standard Webhooks shops have no API
// Treue could read).
//
// The events an order yields are the ones its webhooks yield, with the same
// step keys (models.Event.StepKey), so that reading an order and receiving
// its webhooks, in any order, records each step once.
type OrderReader interface {
	// ReadOrders returns one page of the orders q selects. Errors are *Error:
	// Transient ones (429, 5xx, timeouts) are worth another try after
	// RetryAfter, Permanent ones (credentials refused) are not.
	ReadOrders(ctx context.Context, shop *models.Shop, q OrderQuery) (OrderPage, error)
}

// OrderQuery selects the orders created or changed since From, one page at
// a time.
type OrderQuery struct {
	From time.Time
	// Cursor is the Next of the page before, "" for the first page. It is
	// stored between runs, so a reader must accept one it handed out earlier.
	Cursor string
	// PageSize is a hint; 0 means the reader's default.
	PageSize int
}

// OrderPage is one page of orders.
type OrderPage struct {
	Orders []APIOrder
	// Next continues the read; "" when this was the last page.
	Next string
	// Total is how many orders the whole read has, where the API says (for a
	// progress bar), else -1. It may grow while the read runs.
	Total int
	// Wait asks the caller to pause before the next request, because the
	// shop's rate limit is nearly used up (Shopify's leaky bucket).
	Wait time.Duration
}

// APIOrder is one order as read from the API, normalized.
type APIOrder struct {
	ID        string
	UpdatedAt time.Time
	// Events are the order's journey events, validated, each naming the
	// order's customer.
	Events []models.Event
}
