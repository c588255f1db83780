package shopware

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	json "github.com/go-json-experiment/json/v1"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/treue/treue/models"
)

// Prefixes of the state machine topics. Shopware fires state_enter.<entity>.state.<state>
// with the whole order as payload, whichever of its deliveries or transactions moved.
const (
	transactionState = "state_enter.order_transaction.state."
	deliveryState    = "state_enter.order_delivery.state."
	orderState       = "state_enter.order.state."
)

// mapEvent maps one business event onto canonical events. Topics Treue does not use give
// no events: app lifecycle events, entity-written events (ids only, list payload), and
// newsletter.register, which is a request for double opt-in and not yet consent: Shopware
// fires newsletter.confirm once the recipient confirms, and also right away when the shop
// subscribes without double opt-in (status "direct").
func mapEvent(topic string, raw json.RawMessage, ts time.Time) ([]models.Event, error) {
	switch topic {
	case "checkout.order.placed",
		transactionState + "paid",
		transactionState + "refunded",
		transactionState + "refunded_partially",
		deliveryState + "shipped",
		deliveryState + "shipped_partially",
		deliveryState + "returned",
		deliveryState + "returned_partially",
		orderState + "completed",
		orderState + "cancelled":
		var p struct {
			Order swOrder `json:"order"`
		}
		if err := decodePayload(raw, &p); err != nil {
			return nil, err
		}
		return []models.Event{orderEvent(topic, &p.Order, ts)}, nil

	case "checkout.customer.register", "checkout.customer.guest_register":
		var p struct {
			Customer swCustomer `json:"customer"`
		}
		if err := decodePayload(raw, &p); err != nil {
			return nil, err
		}
		return []models.Event{p.Customer.registered(ts)}, nil

	case "newsletter.confirm", "newsletter.unsubscribe":
		var p struct {
			Recipient swRecipient `json:"newsletterRecipient"`
		}
		if err := decodePayload(raw, &p); err != nil {
			return nil, err
		}
		e := p.Recipient.consent(topic == "newsletter.confirm", ts)
		if e.Data.Customer.Empty() {
			// Shops whose payload hides the recipient (no ApiAware fields) would
			// otherwise get a 4xx on every newsletter event, and Shopware switches a
			// webhook off after ten failures: acknowledge it without a journey step.
			return nil, nil
		}
		return []models.Event{e}, nil
	}
	return nil, nil
}

func decodePayload(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return nil // no payload at all: the missing fields are reported by Event.Validate
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return decodeError(err, "data.payload.")
	}
	return nil
}

// swOrder holds the order fields Treue reads. Business events are encoded with store-api
// visibility, so fields without the ApiAware flag (orderCustomer.customerId among them in
// 6.6) may be missing; everything here is therefore optional.
type swOrder struct {
	ID            string           `json:"id"`
	OrderNumber   string           `json:"orderNumber"`
	OrderDateTime string           `json:"orderDateTime"`
	AmountTotal   *float64         `json:"amountTotal"`
	Currency      *swCurrency      `json:"currency"`
	OrderCustomer *swOrderCustomer `json:"orderCustomer"`
	LineItems     []swLineItem     `json:"lineItems"`
	Deliveries    []swDelivery     `json:"deliveries"`
	Transactions  []swTransaction  `json:"transactions"`
}

type swCurrency struct {
	IsoCode string `json:"isoCode"`
}

type swOrderCustomer struct {
	CustomerID     string `json:"customerId"`
	CustomerNumber string `json:"customerNumber"`
	Email          string `json:"email"`
	FirstName      string `json:"firstName"`
	LastName       string `json:"lastName"`
}

type swLineItem struct {
	Type         string          `json:"type"` // product, promotion, credit, custom, …
	ProductID    string          `json:"productId"`
	ReferencedID string          `json:"referencedId"`
	Label        string          `json:"label"`
	Quantity     int             `json:"quantity"`
	UnitPrice    *float64        `json:"unitPrice"`
	Position     int             `json:"position"`
	Payload      lineItemPayload `json:"payload"`
}

// lineItemPayload is the free-form payload of a line item: a product copies its product
// number there, a promotion the code the customer entered.
type lineItemPayload struct {
	ProductNumber string `json:"productNumber"`
	Code          string `json:"code"`
}

// UnmarshalJSON accepts a list, because PHP encodes an empty associative array as [].
func (p *lineItemPayload) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		*p = lineItemPayload{}
		return nil
	}
	type plain lineItemPayload // without the method, to avoid recursion
	return json.Unmarshal(b, (*plain)(p))
}

// stateful is what deliveries and transactions share: an id, a state and when they last changed.
type stateful struct {
	ID                string   `json:"id"`
	UpdatedAt         string   `json:"updatedAt"`
	StateMachineState *swState `json:"stateMachineState"`
}

type swState struct {
	TechnicalName string `json:"technicalName"`
}

type swDelivery struct {
	stateful
	TrackingCodes  []string          `json:"trackingCodes"`
	ShippingMethod *swShippingMethod `json:"shippingMethod"`
}

type swShippingMethod struct {
	Name       string `json:"name"`
	Translated struct {
		Name string `json:"name"`
	} `json:"translated"`
}

type swTransaction struct {
	stateful
	Amount *struct {
		TotalPrice *float64 `json:"totalPrice"`
	} `json:"amount"`
}

// orderEvent builds the event for an order topic. Every one of them carries the order's
// contents, so that a "paid" arriving before its "placed" still tells the whole story.
func orderEvent(topic string, o *swOrder, ts time.Time) models.Event {
	order := o.model()
	e := models.Event{Timestamp: ts, Data: models.EventData{Customer: o.customer(), Order: order}}

	switch state := topic[strings.LastIndexByte(topic, '.')+1:]; {
	case topic == "checkout.order.placed":
		e.Type = models.OrderPlaced

	case strings.HasPrefix(topic, transactionState):
		entries := make([]stateful, len(o.Transactions))
		for i, t := range o.Transactions {
			entries[i] = t.stateful
		}
		i, at := entered(entries, state, ts)
		if state == "paid" {
			e.Type = models.OrderPaid
			order.PaidAt = &at
			break
		}
		e.Type = models.RefundIssued
		refund := &models.Refund{Currency: order.Currency, IssuedAt: &at}
		if i >= 0 {
			t := o.Transactions[i]
			// The state is part of the id so that a full refund after a partial one is a
			// step of its own. Only a full refund says how much: partial amounts live in
			// captures and refunds that the order payload does not carry.
			refund.ID = t.ID + ":" + state
			if state == "refunded" && t.Amount != nil {
				refund.Amount = money(t.Amount.TotalPrice)
			}
		}
		e.Data.Refund = refund

	case strings.HasPrefix(topic, deliveryState):
		entries := make([]stateful, len(o.Deliveries))
		for i, d := range o.Deliveries {
			entries[i] = d.stateful
		}
		i, at := entered(entries, state, ts)
		if strings.HasPrefix(state, "shipped") {
			e.Type = models.ShipmentShipped
			s := &models.Shipment{ShippedAt: &at}
			if i >= 0 {
				d := o.Deliveries[i]
				s.ID = d.ID
				if len(d.TrackingCodes) > 0 {
					s.Tracking = d.TrackingCodes[0]
				}
				if m := d.ShippingMethod; m != nil {
					s.Carrier = cmp.Or(m.Translated.Name, m.Name)
				}
			}
			e.Data.Shipment = s
			break
		}
		e.Type = models.ReturnReceived
		r := &models.Return{ReceivedAt: &at}
		if i >= 0 {
			// As with refunds, a full return after a partial one is a step of its own.
			r.ID = o.Deliveries[i].ID + ":" + state
		}
		if state == "returned" && len(o.Deliveries) == 1 {
			r.Items = slices.Clone(order.Items) // the one parcel came back whole
		}
		e.Data.Return = r

	case state == "completed":
		e.Type = models.OrderCompleted
	case state == "cancelled":
		e.Type = models.OrderCancelled
	}
	return e
}

// entered finds the entry that has just entered state and when it did. Among the entries
// in that state the most recently updated one wins, the first on a tie. When none is in
// that state (the state association was not loaded, or it moved on since), a single entry
// is taken as the one that changed; with several the answer is -1. The time is the entry's
// updatedAt, which the transition itself sets and which, unlike the envelope timestamp,
// stays the same on every retry; ts when there is none.
func entered(entries []stateful, state string, ts time.Time) (int, time.Time) {
	best, bestAt := -1, time.Time{}
	for i, e := range entries {
		if e.StateMachineState == nil || e.StateMachineState.TechnicalName != state {
			continue
		}
		at := ts
		if t := parseTime(e.UpdatedAt); t != nil {
			at = *t
		}
		if best < 0 || at.After(bestAt) {
			best, bestAt = i, at
		}
	}
	if best >= 0 {
		return best, bestAt
	}
	if len(entries) == 1 {
		if t := parseTime(entries[0].UpdatedAt); t != nil {
			return 0, *t
		}
		return 0, ts
	}
	return -1, ts
}

// model converts the order's contents. Only product line items become items: promotions,
// credits and custom positions are money, not goods.
func (o *swOrder) model() *models.Order {
	m := &models.Order{
		ID:       o.ID,
		Number:   o.OrderNumber,
		PlacedAt: parseTime(o.OrderDateTime),
		Total:    money(o.AmountTotal),
	}
	if o.Currency != nil {
		m.Currency = o.Currency.IsoCode
	}
	// The order comes from the database without a sort; position is the cart's order.
	lines := slices.Clone(o.LineItems)
	slices.SortStableFunc(lines, func(a, b swLineItem) int { return cmp.Compare(a.Position, b.Position) })
	for _, li := range lines {
		switch li.Type {
		case "product":
			m.Items = append(m.Items, models.LineItem{
				SKU:       li.Payload.ProductNumber,
				ProductID: cmp.Or(li.ProductID, li.ReferencedID),
				Name:      li.Label,
				Quantity:  li.Quantity,
				UnitPrice: money(li.UnitPrice),
			})
		case "promotion":
			if m.Coupon == "" {
				m.Coupon = li.Payload.Code // empty for automatic promotions
			}
		}
	}
	return m
}

// customer reads the order's customer. The customer id is often missing from business
// events (not ApiAware), so the customer number and e-mail are what identify the buyer.
func (o *swOrder) customer() models.CustomerRef {
	c := o.OrderCustomer
	if c == nil {
		return models.CustomerRef{}
	}
	return models.CustomerRef{
		ID:        c.CustomerID,
		Number:    c.CustomerNumber,
		Email:     c.Email,
		FirstName: c.FirstName,
		LastName:  c.LastName,
	}
}

type swCustomer struct {
	ID             string `json:"id"`
	CustomerNumber string `json:"customerNumber"`
	Email          string `json:"email"`
	FirstName      string `json:"firstName"`
	LastName       string `json:"lastName"`
	Birthday       string `json:"birthday"`
	CreatedAt      string `json:"createdAt"`
}

// registered dates the registration by the customer's createdAt where present: it is when
// it happened, and unlike the envelope timestamp it does not change between retries,
// which keeps the event's StepKey stable.
func (c *swCustomer) registered(ts time.Time) models.Event {
	if t := parseTime(c.CreatedAt); t != nil {
		ts = *t
	}
	return models.Event{
		Type:      models.CustomerRegistered,
		Timestamp: ts,
		Data: models.EventData{Customer: models.CustomerRef{
			ID:        c.ID,
			Number:    c.CustomerNumber,
			Email:     c.Email,
			FirstName: c.FirstName,
			LastName:  c.LastName,
			Birthday:  date(c.Birthday),
		}},
	}
}

// swRecipient is a newsletter recipient. Caution: none of its fields is ApiAware in the
// Shopware source, so the store-api encoding of business events probably strips email and
// status and leaves only createdAt/updatedAt; such a delivery fails validation on
// data.customer. customerId is not a core field; it is read in case an extension adds it.
type swRecipient struct {
	Email       string `json:"email"`
	CustomerID  string `json:"customerId"`
	ConfirmedAt string `json:"confirmedAt"`
	UpdatedAt   string `json:"updatedAt"`
}

// consent dates the change from the recipient row (confirmedAt, else updatedAt), which
// stays the same on retries, and falls back to the envelope timestamp.
func (r *swRecipient) consent(granted bool, ts time.Time) models.Event {
	typ, at := models.ConsentRevoked, parseTime(r.UpdatedAt)
	if granted {
		typ = models.ConsentGranted
		if t := parseTime(r.ConfirmedAt); t != nil {
			at = t
		}
	}
	if at == nil {
		at = &ts
	}
	return models.Event{
		Type:      typ,
		Timestamp: ts,
		Data: models.EventData{
			Customer: models.CustomerRef{ID: r.CustomerID, Email: r.Email},
			Consent:  &models.Consent{Channel: "email", At: at},
		},
	}
}

// decodeError classifies a json.Unmarshal error: a body that is not JSON (or not an
// object) is a *models.MalformedError; a value of the wrong type is a
// *models.ValidationError naming the field, prefixed with where the decoded part sits.
func decodeError(err error, prefix string) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		var v models.ValidationError
		v.Add(models.FieldPath(prefix+typeErr.Field), "must be %s, not a JSON %s", jsonKind(typeErr.Type), typeErr.Value)
		return &v
	}
	if errors.As(err, &typeErr) {
		if prefix != "" { // a part of a decodable body has the wrong shape
			var v models.ValidationError
			v.Add(strings.TrimSuffix(prefix, "."), "must be an object, not a JSON %s", typeErr.Value)
			return &v
		}
		err = fmt.Errorf("expected a JSON object, got a JSON %s", typeErr.Value)
	}
	return &models.MalformedError{Err: err}
}

// jsonKind names the JSON type that a Go type is decoded from, for error messages.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	default:
		return "a number"
	}
}

// parseTime reads Shopware's RFC 3339 times ("2026-06-10T08:41:12.345+00:00"). A missing
// or unreadable value gives nil: these times refine the envelope timestamp, which still
// dates the event, so they are not worth refusing a delivery for.
func parseTime(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}

// date keeps the calendar date of a Shopware date field ("1988-03-14T00:00:00.000+00:00").
// It cuts the string instead of converting to UTC, which could move the day.
func date(s string) string {
	if len(s) < len(time.DateOnly) {
		return ""
	}
	if _, err := time.Parse(time.DateOnly, s[:len(time.DateOnly)]); err != nil {
		return ""
	}
	return s[:len(time.DateOnly)]
}

// money renders a Shopware float amount as a decimal string with at least two decimals.
// FormatFloat's shortest form is the number PHP printed; beyond four decimals it is
// binary noise (0.30000000000000004), which is rounded away. Three-decimal currencies
// keep their third decimal.
func money(x *float64) models.Money {
	if x == nil {
		return ""
	}
	s := strconv.FormatFloat(*x, 'f', -1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 4 {
		whole, frac, _ = strings.Cut(strconv.FormatFloat(*x, 'f', 4, 64), ".")
		frac = strings.TrimRight(frac, "0")
	}
	for len(frac) < 2 {
		frac += "0"
	}
	return models.Money(whole + "." + frac)
}
