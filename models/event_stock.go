package models

import (
	"strconv"
	"time"
)

// Back-in-stock notices (seed 003). A customer subscribes to a SKU that is
// out of stock; the shop reports its stock levels; when a SKU goes from 0
// to available, Treue records a stock.available in each open subscriber's
// journey, paced per hour, and the rules answer it.
const (
	StockSubscribed   EventType = "stock.subscribed"
	StockUnsubscribed EventType = "stock.unsubscribed"
	// ProductStockChanged is a shop event: it names a product, no customer,
	// and joins no journey.
	ProductStockChanged EventType = "product.stock_changed"
	// StockAvailable is recorded by Treue itself at a restock, one per open
	// subscription; no sender may deliver it.
	StockAvailable EventType = "stock.available"
	// StockSoldOut is recorded by Treue when a SKU sells out again, for each
	// notice whose slot had not come: its pending actions are cancelled
	// (rules, out_of_stock) and the subscription waits for the next restock.
	StockSoldOut EventType = "stock.sold_out"
)

// StockSubscription is a customer's wish to hear when a SKU is back.
type StockSubscription struct {
	SKU string     `json:"sku"`
	At  *time.Time `json:"at,omitempty"`
}

// ProductStock is a product's stock level at a moment of the shop.
type ProductStock struct {
	SKU string `json:"sku"`
	// Stock is the quantity available for sale; 0 or less is out of stock.
	Stock int64      `json:"stock"`
	At    *time.Time `json:"at,omitempty"`
}

// Restock is a subscriber's notice that their SKU is back in stock: which
// restock, their place in the queue and the pacing that set their slot.
type Restock struct {
	// Subscription is Treue's id of the subscription the notice answers.
	Subscription int64     `json:"subscription"`
	SKU          string    `json:"sku"`
	RestockAt    time.Time `json:"restock_at"`
	SubscribedAt time.Time `json:"subscribed_at"`
	// Rank is the subscriber's place, 1 for the oldest subscription, of
	// Subscribers open when the notice was recorded.
	Rank        int `json:"rank"`
	Subscribers int `json:"subscribers"`
	// PerHour subscribers are notified per hour: Slot (1-based) is the hour
	// after the restock this one's notice is due in, of Slots.
	PerHour int       `json:"per_hour"`
	Slot    int       `json:"slot"`
	Slots   int       `json:"slots"`
	SlotAt  time.Time `json:"slot_at"`
}

// StockEvent reports whether t is one of the back-in-stock events.
func (t EventType) StockEvent() bool {
	switch t {
	case StockSubscribed, StockUnsubscribed, ProductStockChanged, StockAvailable, StockSoldOut:
		return true
	}
	return false
}

// StockSKU is the product a back-in-stock event is about, "" for other events.
func (e *Event) StockSKU() string {
	d := &e.Data
	switch {
	case (e.Type == StockSubscribed || e.Type == StockUnsubscribed) && d.Subscription != nil:
		return d.Subscription.SKU
	case e.Type == ProductStockChanged && d.Product != nil:
		return d.Product.SKU
	case (e.Type == StockAvailable || e.Type == StockSoldOut) && d.Restock != nil:
		return d.Restock.SKU
	}
	return ""
}

// RecordedByTreue reports whether t is an event Treue derives itself,
// which no sender may deliver.
func (t EventType) RecordedByTreue() bool { return t == StockAvailable || t == StockSoldOut }

func validateStock(v *ValidationError, e *Event) {
	d := &e.Data
	switch e.Type {
	case StockSubscribed, StockUnsubscribed:
		if d.Subscription == nil || d.Subscription.SKU == "" {
			v.Add("data.subscription.sku", "is required for %s", e.Type)
		}
	case ProductStockChanged:
		if d.Product == nil || d.Product.SKU == "" {
			v.Add("data.product.sku", "is required for %s", e.Type)
		}
	case StockAvailable, StockSoldOut:
		if d.Restock == nil || d.Restock.SKU == "" {
			v.Add("data.restock.sku", "is required for %s", e.Type)
		}
	}
}

// stockTime is the source time a back-in-stock event carries, if any.
func stockTime(e *Event) *time.Time {
	d := &e.Data
	switch {
	case (e.Type == StockSubscribed || e.Type == StockUnsubscribed) && d.Subscription != nil:
		return d.Subscription.At
	case e.Type == ProductStockChanged && d.Product != nil:
		return d.Product.At
	case e.Type == StockAvailable && d.Restock != nil && !d.Restock.RestockAt.IsZero():
		// The notice happens at the restock; "immediately" waits for its
		// slot (rules). So a later stock.sold_out finds it pending.
		t := d.Restock.RestockAt
		return &t
	}
	return nil
}

// stockStepKey: a subscription is one step per customer, SKU and moment; a
// stock level one per SKU, moment and quantity (the shop's own redelivery
// is the same step); a notice, and its end when the SKU sells out, one per
// subscription and restock, so a notice cancelled because the SKU ran out
// again is recorded anew at the next restock.
func stockStepKey(e *Event) string {
	at := e.OccurredAt().Format(time.RFC3339Nano)
	switch e.Type {
	case ProductStockChanged:
		q := ""
		if e.Data.Product != nil {
			q = strconv.FormatInt(e.Data.Product.Stock, 10)
		}
		return string(e.Type) + "|" + e.StockSKU() + "|" + at + "|" + q
	case StockAvailable, StockSoldOut:
		r := e.Data.Restock
		if r == nil {
			r = &Restock{}
		}
		return string(e.Type) + "|" + strconv.FormatInt(r.Subscription, 10) + "|" + r.SKU + "|" + r.SubscribedAt.UTC().Format(time.RFC3339Nano) +
			"|" + r.RestockAt.UTC().Format(time.RFC3339Nano)
	}
	return string(e.Type) + "|" + e.CustomerKey() + "|" + e.StockSKU() + "|" + at
}
