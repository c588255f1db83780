package models

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// EventType is a canonical journey event type.
type EventType string

// The canonical journey events (ARCHITECTURE.md).
const (
	CustomerRegistered EventType = "customer.registered"
	ConsentGranted     EventType = "consent.granted"
	ConsentRevoked     EventType = "consent.revoked"
	OrderPlaced        EventType = "order.placed"
	OrderPaid          EventType = "order.paid"
	OrderCancelled     EventType = "order.cancelled"
	OrderCompleted     EventType = "order.completed"
	ShipmentShipped    EventType = "shipment.shipped"
	ShipmentDelivered  EventType = "shipment.delivered"
	ReturnRequested    EventType = "return.requested"
	ReturnReceived     EventType = "return.received"
	RefundIssued       EventType = "refund.issued"
	ReviewSubmitted    EventType = "review.submitted"
	ComplaintOpened    EventType = "complaint.opened"
	CategoryOptedOut   EventType = "category.opted_out"
	// Data-protection requests a shop forwards (Shopify compliance topics and the like).
	CustomerRedactRequested EventType = "privacy.customer_redact"
	CustomerDataRequested   EventType = "privacy.customer_data_request"
	ShopRedactRequested     EventType = "privacy.shop_redact"
)

// EventTypes lists every canonical type in journey order.
var EventTypes = []EventType{
	CustomerRegistered, ConsentGranted, ConsentRevoked, OrderPlaced, OrderPaid, OrderCancelled,
	OrderCompleted, ShipmentShipped, ShipmentDelivered, ReturnRequested, ReturnReceived,
	RefundIssued, ReviewSubmitted, ComplaintOpened, CategoryOptedOut,
	CustomerRedactRequested, CustomerDataRequested, ShopRedactRequested,
	// Satisfaction signals (event_satisfaction.go).
	SurveyAnswered, ComplaintResolved,
	// Back-in-stock notices (event_stock.go).
	StockSubscribed, StockUnsubscribed, ProductStockChanged, StockAvailable, StockSoldOut,
	// Cart events (event_cart.go).
	CartUpdated, CheckoutStarted, CartAbandoned,
}

// Valid reports whether t is a canonical event type.
func (t EventType) Valid() bool {
	for _, u := range EventTypes {
		if t == u {
			return true
		}
	}
	return false
}

// FollowsOrder reports whether t is a step of an order that was placed
// before it (payment, cancellation, shipment, return, refund): such an
// event belongs to the order's customer, whoever it names.
func (t EventType) FollowsOrder() bool {
	switch t {
	case OrderPaid, OrderCancelled, OrderCompleted, ShipmentShipped, ShipmentDelivered,
		ReturnRequested, ReturnReceived, RefundIssued:
		return true
	}
	return false
}

// Event is one canonical journey event: what every platform's payload is normalized to,
// and the body of a Standard Webhooks delivery.
type Event struct {
	Type EventType `json:"type"`
	// Timestamp is when the event happened at the source (RFC 3339).
	Timestamp time.Time `json:"timestamp"`
	Data      EventData `json:"data"`
}

// EventData carries the event's subject. Which parts are required depends on the type.
type EventData struct {
	Customer  CustomerRef `json:"customer"`
	Order     *Order      `json:"order,omitempty"`
	Shipment  *Shipment   `json:"shipment,omitempty"`
	Return    *Return     `json:"return,omitempty"`
	Refund    *Refund     `json:"refund,omitempty"`
	Consent   *Consent    `json:"consent,omitempty"`
	Review    *Review     `json:"review,omitempty"`
	Complaint *Complaint  `json:"complaint,omitempty"`
	OptOut    *OptOut     `json:"opt_out,omitempty"`
	// Survey is a satisfaction survey's answer (survey.answered).
	Survey *Survey `json:"survey,omitempty"`
	// Back-in-stock notices (event_stock.go).
	Subscription *StockSubscription `json:"subscription,omitempty"`
	Product      *ProductStock      `json:"product,omitempty"`
	Restock      *Restock           `json:"restock,omitempty"`
	Cart         *Cart              `json:"cart,omitempty"`
}

// CustomerRef identifies a customer; at least one of ID, Number, Email is needed.
type CustomerRef struct {
	ID        string `json:"id,omitempty"`
	Number    string `json:"number,omitempty"`
	Email     string `json:"email,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	// Birthday is a date, YYYY-MM-DD.
	Birthday string `json:"birthday,omitempty"`
	// ReferredBy is the referral code the customer signed up with, if any.
	ReferredBy string `json:"referred_by,omitempty"`
}

// Empty reports whether the reference names no identity at all.
func (c CustomerRef) Empty() bool { return c.ID == "" && c.Number == "" && c.Email == "" }

// Order is an order reference, with its contents where the event carries them.
type Order struct {
	ID       string     `json:"id"`
	Number   string     `json:"number,omitempty"`
	PlacedAt *time.Time `json:"placed_at,omitempty"`
	PaidAt   *time.Time `json:"paid_at,omitempty"`
	Currency string     `json:"currency,omitempty"`
	Total    Money      `json:"total,omitempty"`
	Items    []LineItem `json:"items,omitempty"`
	Coupon   string     `json:"coupon,omitempty"`
	// Test marks an order the shop flags as a test (Shopify's "test": true,
	// from a test gateway or the admin's sample webhooks). It stays on the
	// timeline so support can see it arrived, but it is not a sale: profiles
	// do not count it and no actions are planned for it.
	Test bool `json:"test,omitempty"`
}

// LineItem is one position of an order or a return.
type LineItem struct {
	SKU       string `json:"sku,omitempty"`
	ProductID string `json:"product_id,omitempty"`
	Name      string `json:"name,omitempty"`
	Category  string `json:"category,omitempty"`
	Quantity  int    `json:"quantity"`
	UnitPrice Money  `json:"unit_price,omitempty"`
}

// Shipment is a parcel of an order.
type Shipment struct {
	ID                 string     `json:"id,omitempty"`
	Carrier            string     `json:"carrier,omitempty"`
	Tracking           string     `json:"tracking,omitempty"`
	ShippedAt          *time.Time `json:"shipped_at,omitempty"`
	PromisedDeliveryAt *time.Time `json:"promised_delivery_at,omitempty"`
	DeliveredAt        *time.Time `json:"delivered_at,omitempty"`
}

// Return is a return of (part of) an order.
type Return struct {
	ID          string     `json:"id,omitempty"`
	RequestedAt *time.Time `json:"requested_at,omitempty"`
	ReceivedAt  *time.Time `json:"received_at,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	Items       []LineItem `json:"items,omitempty"`
}

// Refund is money paid back for an order.
type Refund struct {
	ID       string     `json:"id,omitempty"`
	Amount   Money      `json:"amount,omitempty"`
	Currency string     `json:"currency,omitempty"`
	IssuedAt *time.Time `json:"issued_at,omitempty"`
	Items    []LineItem `json:"items,omitempty"`
}

// Consent is a marketing consent change.
type Consent struct {
	Channel string     `json:"channel"`
	At      *time.Time `json:"at,omitempty"`
}

// Review is a product or shop review the customer wrote.
type Review struct {
	ID     string `json:"id,omitempty"`
	SKU    string `json:"sku,omitempty"`
	Rating int    `json:"rating,omitempty"`
}

// Complaint is a customer complaint.
type Complaint struct {
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// OptOut is a customer's "not interested in this category".
type OptOut struct {
	Category string `json:"category"`
}

// Money is a decimal amount as a string ("59.80"), never a float.
type Money string

var moneyRE = regexp.MustCompile(`^-?[0-9]{1,15}(\.[0-9]{1,4})?$`)

// Valid reports whether m is a well-formed decimal amount.
func (m Money) Valid() bool { return moneyRE.MatchString(string(m)) }

// Cents returns the amount in hundredths, rounding half away from zero beyond two decimals.
func (m Money) Cents() (int64, bool) {
	if m == "" {
		return 0, true
	}
	if !m.Valid() {
		return 0, false
	}
	s := string(m)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	frac += "0000"
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac[:4], 10, 64)
	c := w*100 + f/100
	if f%100 >= 50 {
		c++
	}
	if neg {
		c = -c
	}
	return c, true
}

// FormatCents renders hundredths as a decimal string.
func FormatCents(c int64) Money {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return Money(sign + strconv.FormatInt(c/100, 10) + "." + strconv.FormatInt(100+c%100, 10)[1:])
}

// Validate checks that the event carries what its type needs, naming each missing field.
func (e *Event) Validate() error {
	var v ValidationError
	if e.Type == "" {
		v.Add("type", "is required")
	} else if !e.Type.Valid() {
		v.Add("type", "unknown event type %q", e.Type)
	}
	if e.Timestamp.IsZero() {
		v.Add("timestamp", "is required (RFC 3339)")
	}
	d := &e.Data
	if d.Customer.Empty() && e.NeedsCustomer() {
		v.Add("data.customer", "needs at least one of id, number, email")
	}
	if d.Customer.Email != "" && !strings.Contains(d.Customer.Email, "@") {
		v.Add("data.customer.email", "is not an e-mail address")
	}
	if d.Customer.Birthday != "" {
		if _, err := time.Parse(time.DateOnly, d.Customer.Birthday); err != nil {
			v.Add("data.customer.birthday", "must be a date YYYY-MM-DD")
		}
	}
	switch e.Type {
	case OrderPlaced, OrderPaid, OrderCancelled, OrderCompleted,
		ShipmentShipped, ShipmentDelivered, ReturnRequested, ReturnReceived, RefundIssued:
		if d.Order == nil || d.Order.ID == "" {
			v.Add("data.order.id", "is required for %s", e.Type)
		}
	}
	switch e.Type {
	case ShipmentShipped, ShipmentDelivered:
		if d.Shipment == nil {
			v.Add("data.shipment", "is required for %s", e.Type)
		}
	case ReturnRequested, ReturnReceived:
		if d.Return == nil {
			v.Add("data.return", "is required for %s", e.Type)
		}
	case ConsentGranted, ConsentRevoked:
		if d.Consent == nil || d.Consent.Channel == "" {
			v.Add("data.consent.channel", "is required for %s", e.Type)
		}
	case CategoryOptedOut:
		if d.OptOut == nil || d.OptOut.Category == "" {
			v.Add("data.opt_out.category", "is required for %s", e.Type)
		}
	}
	if o := d.Order; o != nil {
		if o.Total != "" && !o.Total.Valid() {
			v.Add("data.order.total", "must be a decimal string such as \"59.80\"")
		}
		if o.Currency != "" && !currencyRE.MatchString(o.Currency) {
			v.Add("data.order.currency", "must be an ISO 4217 code such as EUR")
		}
		validateItems(&v, "data.order.items", o.Items)
	}
	if r := d.Return; r != nil {
		validateItems(&v, "data.return.items", r.Items)
	}
	if r := d.Refund; r != nil && r.Amount != "" && !r.Amount.Valid() {
		v.Add("data.refund.amount", "must be a decimal string such as \"14.90\"")
	}
	validateSatisfaction(&v, e)
	validateStock(&v, e)
	if e.Type.IsCart() || d.Cart != nil {
		e.validateCart(&v)
	}
	return v.Err()
}

func validateItems(v *ValidationError, path string, items []LineItem) {
	for i, it := range items {
		p := path + "[" + strconv.Itoa(i) + "]"
		if it.SKU == "" && it.ProductID == "" {
			v.Add(p, "needs sku or product_id")
		}
		if it.Quantity <= 0 {
			v.Add(p+".quantity", "must be a positive integer")
		}
		if it.UnitPrice != "" && !it.UnitPrice.Valid() {
			v.Add(p+".unit_price", "must be a decimal string such as \"14.90\"")
		}
	}
}

// NeedsCustomer reports whether the event must name its customer. Later steps
// of an order may name only the order (Shopify refunds and returns do): the
// processor finds the customer through the order.
func (e *Event) NeedsCustomer() bool {
	switch e.Type {
	case ShopRedactRequested:
		return false
	case OrderPaid, OrderCancelled, OrderCompleted, ShipmentShipped, ShipmentDelivered,
		ReturnRequested, ReturnReceived, RefundIssued:
		return e.Data.Order == nil || e.Data.Order.ID == ""
	case ProductStockChanged:
		return false // a shop event (event_stock.go)
	}
	return true
}

// OccurredAt is the best source time of the event: the step's own time where the
// payload has it, else the envelope timestamp.
func (e *Event) OccurredAt() time.Time {
	d := &e.Data
	pick := func(t *time.Time) (time.Time, bool) {
		if t != nil && !t.IsZero() {
			return t.UTC(), true
		}
		return time.Time{}, false
	}
	var t *time.Time
	switch e.Type {
	case OrderPlaced:
		if d.Order != nil {
			t = d.Order.PlacedAt
		}
	case OrderPaid:
		if d.Order != nil {
			t = d.Order.PaidAt
		}
	case ShipmentShipped:
		if d.Shipment != nil {
			t = d.Shipment.ShippedAt
		}
	case ShipmentDelivered:
		if d.Shipment != nil {
			t = d.Shipment.DeliveredAt
		}
	case ReturnRequested:
		if d.Return != nil {
			t = d.Return.RequestedAt
		}
	case ReturnReceived:
		if d.Return != nil {
			t = d.Return.ReceivedAt
		}
	case RefundIssued:
		if d.Refund != nil {
			t = d.Refund.IssuedAt
		}
	case ConsentGranted, ConsentRevoked:
		if d.Consent != nil {
			t = d.Consent.At
		}
	case StockSubscribed, StockUnsubscribed, ProductStockChanged, StockAvailable, StockSoldOut:
		t = stockTime(e)
	}
	if ts, ok := pick(t); ok {
		return ts
	}
	if ts, ok := e.cartOccurredAt(); ok {
		return ts
	}
	return e.Timestamp.UTC()
}

// StepKey identifies the business step an event records, so that the same step
// delivered twice, or through two topics, is kept once. It does not include the
// delivery id on purpose.
func (e *Event) StepKey() string {
	d := &e.Data
	order := ""
	if d.Order != nil {
		order = d.Order.ID
	}
	switch e.Type {
	case OrderPlaced, OrderPaid, OrderCancelled, OrderCompleted:
		return string(e.Type) + "|" + order
	case ShipmentShipped, ShipmentDelivered:
		id := ""
		if d.Shipment != nil {
			id = d.Shipment.ID
		}
		return string(e.Type) + "|" + order + "|" + id
	case ReturnRequested, ReturnReceived:
		id := ""
		if d.Return != nil {
			id = d.Return.ID
		}
		return string(e.Type) + "|" + order + "|" + id
	case RefundIssued:
		id := ""
		if d.Refund != nil {
			id = d.Refund.ID
		}
		return string(e.Type) + "|" + order + "|" + id
	case CategoryOptedOut:
		return string(e.Type) + "|" + e.CustomerKey() + "|" + d.OptOut.Category + "|" + e.OccurredAt().Format(time.RFC3339)
	case StockSubscribed, StockUnsubscribed, ProductStockChanged, StockAvailable, StockSoldOut:
		return stockStepKey(e)
	case CartUpdated, CheckoutStarted, CartAbandoned:
		return e.cartStepKey()
	}
	if k := satisfactionStepKey(e); k != "" {
		return k
	}
	return string(e.Type) + "|" + e.CustomerKey() + "|" + e.OccurredAt().Format(time.RFC3339Nano)
}

// CustomerKey names the customer by the strongest identity the event carries
// (id, then number, then normalized e-mail); step keys are built on it.
func (e *Event) CustomerKey() string {
	c := e.Data.Customer
	switch {
	case c.ID != "":
		return "id:" + c.ID
	case c.Number != "":
		return "no:" + c.Number
	default:
		return "em:" + NormalizeEmail(c.Email)
	}
}

// NormalizeEmail lower-cases and trims an address for matching.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
