package support

import (
	"fmt"
	"strings"

	"github.com/treue/treue/models"
)

// summarizer writes the line of one event type; order names the event's
// order (its number where it has one), "" when the event has none.
type summarizer func(d *models.EventData, order string) string

var summarizers = map[models.EventType]summarizer{
	models.OrderPlaced:        orderPlaced,
	models.OrderPaid:          orderStep("paid"),
	models.OrderCancelled:     orderStep("cancelled"),
	models.OrderCompleted:     orderStep("completed"),
	models.ShipmentShipped:    shipped,
	models.ShipmentDelivered:  orderStep("delivered"),
	models.ReturnRequested:    returned("requested"),
	models.ReturnReceived:     returned("received"),
	models.RefundIssued:       refunded,
	models.ConsentGranted:     consent("granted"),
	models.ConsentRevoked:     consent("revoked"),
	models.CategoryOptedOut:   optedOut,
	models.CustomerRegistered: func(*models.EventData, string) string { return "Registered" },
	models.ReviewSubmitted:    reviewed,
	models.ComplaintOpened:    complained,
	// Satisfaction signals (satisfaction.go).
	models.SurveyAnswered:    surveyAnswered,
	models.ComplaintResolved: complaintResolved,
	// Back in stock (stock.go).
	models.StockSubscribed:   stockSubscribed,
	models.StockUnsubscribed: stockUnsubscribed,
	models.StockAvailable:    stockAvailable,
	models.StockSoldOut:      stockSoldOut,
	// Carts (cart.go).
	models.CartUpdated:     cartUpdated,
	models.CheckoutStarted: checkoutStarted,
	models.CartAbandoned:   cartAbandoned,
}

// Summarize writes one line a support person can read at a glance. A test
// order's steps say so, since the profile does not count them.
func Summarize(e *models.Event) string {
	s := string(e.Type)
	if f, ok := summarizers[e.Type]; ok {
		s = f(&e.Data, orderName(e.Data.Order))
	}
	if o := e.Data.Order; o != nil && o.Test {
		s += " (test order)"
	}
	return s
}

func orderName(o *models.Order) string {
	switch {
	case o == nil:
		return ""
	case o.Number != "":
		return o.Number
	}
	return o.ID
}

// amount writes an amount with its currency, or alone when the event has none.
func amount(m models.Money, currency string) string {
	return strings.TrimSpace(string(m) + " " + currency)
}

func orderStep(verb string) summarizer {
	return func(_ *models.EventData, order string) string { return "Order " + order + " " + verb }
}

func orderPlaced(d *models.EventData, order string) string {
	s := fmt.Sprintf("Order %s placed", order)
	if d.Order == nil {
		return s
	}
	n := 0
	for _, it := range d.Order.Items {
		n += it.Quantity
	}
	if n > 0 {
		s += fmt.Sprintf(": %d item(s)", n)
	}
	if d.Order.Total != "" {
		s += ", " + amount(d.Order.Total, d.Order.Currency)
	}
	return s
}

func shipped(d *models.EventData, order string) string {
	s := "Order " + order + " shipped"
	if d.Shipment == nil {
		return s
	}
	if d.Shipment.Carrier != "" {
		s += " with " + d.Shipment.Carrier
	}
	if d.Shipment.PromisedDeliveryAt != nil {
		s += ", promised for " + d.Shipment.PromisedDeliveryAt.Format("2006-01-02")
	}
	return s
}

func returned(verb string) summarizer {
	return func(d *models.EventData, order string) string {
		s := "Return of order " + order + " " + verb
		if d.Return != nil && d.Return.Reason != "" {
			s += ": " + d.Return.Reason
		}
		return s
	}
}

func refunded(d *models.EventData, order string) string {
	s := "Refund for order " + order
	if d.Refund != nil && d.Refund.Amount != "" {
		s += ": " + amount(d.Refund.Amount, d.Refund.Currency)
	}
	return s
}

func consent(verb string) summarizer {
	return func(d *models.EventData, _ string) string {
		channel := ""
		if d.Consent != nil {
			channel = d.Consent.Channel
		}
		return "Marketing consent " + verb + " (" + channel + ")"
	}
}

func optedOut(d *models.EventData, _ string) string {
	category := ""
	if d.OptOut != nil {
		category = d.OptOut.Category
	}
	return "Opted out of " + category
}

func reviewed(d *models.EventData, _ string) string {
	if d.Review != nil && d.Review.Rating > 0 {
		return fmt.Sprintf("Review submitted: %d stars", d.Review.Rating)
	}
	return "Review submitted"
}

func complained(d *models.EventData, _ string) string {
	if d.Complaint != nil && d.Complaint.Reason != "" {
		return "Complaint: " + d.Complaint.Reason
	}
	return "Complaint opened"
}
