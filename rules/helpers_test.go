package rules

import (
	"errors"
	"testing"
	"time"

	"github.com/treue/treue/models"
)

// Shared fixtures: the example rules file and a small journey vocabulary.

const examplePath = "../examples/rules.yaml"

func mustLoad(tb testing.TB, path string) *Set {
	tb.Helper()
	s, err := Load(path)
	var d Diagnostics
	if errors.As(err, &d) {
		tb.Fatalf("load %s:\n%s", path, d.Error())
	}
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

var berlin = mustLocation("Europe/Berlin")

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at is a Berlin wall-clock time in November 2026 (UTC+1).
func at(day, hour, minute int) time.Time {
	return time.Date(2026, time.November, day, hour, minute, 0, 0, berlin).UTC()
}

func tp(t time.Time) *time.Time { return &t }

func line(sku string, qty int, price string) models.LineItem {
	return models.LineItem{SKU: sku, Quantity: qty, UnitPrice: models.Money(price)}
}

func customer(id string) models.CustomerRef { return models.CustomerRef{ID: id} }

func orderEvent(typ models.EventType, orderID string, ts time.Time, total string, items ...models.LineItem) models.Event {
	o := &models.Order{ID: orderID, Currency: "EUR", Total: models.Money(total), Items: items}
	switch typ {
	case models.OrderPlaced:
		o.PlacedAt = tp(ts)
	case models.OrderPaid:
		o.PaidAt = tp(ts)
	}
	return models.Event{Type: typ, Timestamp: ts, Data: models.EventData{Customer: customer("c-1"), Order: o}}
}

func shipmentEvent(typ models.EventType, orderID string, sh models.Shipment, ts time.Time) models.Event {
	return models.Event{Type: typ, Timestamp: ts, Data: models.EventData{
		Customer: customer("c-1"), Order: &models.Order{ID: orderID}, Shipment: &sh,
	}}
}

func returnEvent(typ models.EventType, orderID, returnID string, ts time.Time, items ...models.LineItem) models.Event {
	r := &models.Return{ID: returnID, Reason: "too_bitter", Items: items}
	if typ == models.ReturnReceived {
		r.ReceivedAt = tp(ts)
	} else {
		r.RequestedAt = tp(ts)
	}
	return models.Event{Type: typ, Timestamp: ts, Data: models.EventData{
		Customer: customer("c-1"), Order: &models.Order{ID: orderID}, Return: r,
	}}
}

// profile is a customer with consent, two orders, the last on Nov 2.
func profile() models.Profile {
	return models.Profile{
		CustomerID: 1, PublicID: "cus_7f3a", Stage: models.StageFirstPurchase,
		OrderCount: 1, PositiveOrderCount: 0, TotalSpentCents: 7470, Currency: "EUR",
		FirstOrderAt: tp(at(2, 9, 15)), LastOrderAt: tp(at(2, 9, 15)),
		Categories: []string{"beans", "tea"}, SKUs: []string{"BEAN-ESP-1KG", "TEA-SENCHA-100G"},
		MarketingConsent: true, Birthday: "1988-11-20", PointsBalance: 120, Tier: "bronze",
		ReferralCode: "ANNA7F",
	}
}

// order1 is the customer's order of Nov 2: espresso beans ×2, sencha, a grinder.
func order1Items() []models.LineItem {
	return []models.LineItem{
		line("BEAN-ESP-1KG", 2, "24.90"),
		line("TEA-SENCHA-100G", 1, "12.50"),
		line("GRINDER-HAND", 1, "39.00"),
	}
}

func order1State() *OrderState {
	return &OrderState{
		ID: "o-1001", Number: "1001", PlacedAt: at(2, 9, 15), PaidAt: at(2, 9, 16),
		Currency: "EUR", Total: "101.30", Items: order1Items(),
	}
}

// refundEvent is a refund with no return before it, as Shopify's
// refunds/create, a Magento credit memo or a Shopware refunded transaction
// report it.
func refundEvent(orderID, refundID string, ts time.Time, amount string, items ...models.LineItem) models.Event {
	return models.Event{Type: models.RefundIssued, Timestamp: ts, Data: models.EventData{
		Customer: customer("c-1"), Order: &models.Order{ID: orderID},
		Refund: &models.Refund{ID: refundID, Amount: models.Money(amount), Currency: "EUR", IssuedAt: tp(ts), Items: items},
	}}
}
