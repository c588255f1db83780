package shopify

import (
	"strconv"
	"strings"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

// mapper turns one topic's body into journey events. fallback is the
// X-Shopify-Triggered-At time (zero when absent), used where the payload has no
// time of its own. Events are validated by the caller.
type mapper func(body []byte, fallback time.Time) ([]models.Event, error)

// mapperFor returns the mapper of a topic, nil for topics Treue does not use.
//
// Several business steps reach Treue through more than one topic (a shipment via
// orders/fulfilled and fulfillments/create, a refund via refunds/create and
// orders/updated); each mapper keys its events on the same Shopify ids, so
// models.Event.StepKey keeps the step once.
func mapperFor(topic string) mapper {
	switch topic {
	case "orders/create":
		return orderEvent(models.OrderPlaced)
	case "orders/paid":
		return orderEvent(models.OrderPaid)
	case "orders/cancelled":
		return orderEvent(models.OrderCancelled)
	case "orders/fulfilled", "orders/partially_fulfilled":
		return orderShipments
	case "orders/updated":
		return orderRefunds
	case "fulfillments/create", "fulfillments/update":
		return fulfillmentEvents
	case "refunds/create":
		return refundEvent
	case "returns/request":
		return returnEvent(models.ReturnRequested)
	case "returns/close", "returns/process":
		// Shopify closes a return once it is dealt with and (from API 2025-07)
		// sends returns/process when its items are processed; either means the
		// goods are back. returns/approve only authorizes the return, so it maps
		// to nothing, like returns/decline and returns/cancel.
		return returnEvent(models.ReturnReceived)
	case "customers/create":
		return customerEvents(true)
	case "customers/update":
		return customerEvents(false)
	case "customers/redact":
		return privacyEvent(models.CustomerRedactRequested)
	case "customers/data_request":
		return privacyEvent(models.CustomerDataRequested)
	case "shop/redact":
		return privacyEvent(models.ShopRedactRequested)
	// Carts (checkout.go).
	case "checkouts/create":
		return checkoutEvent(models.CheckoutStarted)
	case "checkouts/update":
		return checkoutEvent(models.CartUpdated)
	}
	return nil
}

// orderEvent maps the order topics that carry the whole order.
//
// Every order topic sends the order as it stands, so an orders/create or
// orders/paid can already describe a cancelled order (Shopify's documented
// sample order is one: cancelled_at set, financial_status voided). Such a
// payload adds order.cancelled, keyed like the one orders/cancelled brings, so
// the step is kept once whichever arrives first. orders/create keeps its
// order.placed, since the order was placed; orders/paid yields order.cancelled
// instead of order.paid, because the payload says the sale did not happen and
// order.paid would plan points and reminders for it.
func orderEvent(typ models.EventType) mapper {
	return func(body []byte, fallback time.Time) ([]models.Event, error) {
		var o order
		if err := plugin.DecodeJSON("shopify", body, &o); err != nil {
			return nil, err
		}
		var v models.ValidationError
		ord := o.toOrder(&v)
		ts := firstTime(fallback, timeField(&v, "updated_at", o.UpdatedAt), ord.PlacedAt)
		data := models.EventData{Customer: o.customerRef(), Order: ord}
		var events []models.Event
		switch {
		case typ == models.OrderCancelled && !o.cancelled():
			// X-Shopify-Topic is not signed: an order body that is not
			// cancelled, sent as orders/cancelled, cancels nothing.
			return nil, nil
		case typ == models.OrderCancelled:
			events = []models.Event{o.cancellation(&v, ts, data)}
		case !o.cancelled():
			events = []models.Event{{Type: typ, Timestamp: ts, Data: data}}
		case typ == models.OrderPaid:
			events = []models.Event{o.cancellation(&v, ts, data)}
		default:
			events = []models.Event{{Type: typ, Timestamp: ts, Data: data}, o.cancellation(&v, ts, data)}
		}
		if err := v.Err(); err != nil {
			return nil, err
		}
		return events, nil
	}
}

// cancelled reports whether the order is no sale (any more): Shopify sets
// cancelled_at when the merchant cancels it and financial_status "voided"
// when the payment authorization was voided, which cancelling an unpaid order
// does. Either keeps the order out of the customer's spend.
func (o *order) cancelled() bool {
	return strings.TrimSpace(o.CancelledAt) != "" || o.FinancialStatus == "voided"
}

// cancellation is the order.cancelled of an order payload, dated by
// cancelled_at (ts for a voided order without one).
func (o *order) cancellation(v *models.ValidationError, ts time.Time, data models.EventData) models.Event {
	return models.Event{
		Type:      models.OrderCancelled,
		Timestamp: firstTime(ts, timeField(v, "cancelled_at", o.CancelledAt)),
		Data:      data,
	}
}

// orderShipments maps orders/fulfilled to one shipment.shipped per successful
// fulfillment, keyed by the fulfillment id like fulfillments/create.
func orderShipments(body []byte, fallback time.Time) ([]models.Event, error) {
	var o order
	if err := plugin.DecodeJSON("shopify", body, &o); err != nil {
		return nil, err
	}
	var v models.ValidationError
	ord := o.toOrder(&v)
	ts := firstTime(fallback, timeField(&v, "updated_at", o.UpdatedAt))
	var events []models.Event
	for i := range o.Fulfillments {
		f := &o.Fulfillments[i]
		if f.Status != "success" {
			continue
		}
		s := f.toShipment(&v, "fulfillments[]")
		events = append(events, models.Event{
			Type:      models.ShipmentShipped,
			Timestamp: firstTime(ts, s.ShippedAt),
			Data:      models.EventData{Customer: o.customerRef(), Order: ord, Shipment: s},
		})
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return events, nil
}

// orderRefunds maps orders/updated to one refund.issued per refund on the order,
// plus order.cancelled once the order is cancelled or voided (see orderEvent).
// refunds/create carries no customer at all, so orders/updated is the topic that
// lets a Shopify refund reach a customer; repeats are kept once by the refund id.
func orderRefunds(body []byte, fallback time.Time) ([]models.Event, error) {
	var o order
	if err := plugin.DecodeJSON("shopify", body, &o); err != nil {
		return nil, err
	}
	var v models.ValidationError
	ord := o.toOrder(&v)
	var events []models.Event
	if o.cancelled() {
		ts := firstTime(fallback, timeField(&v, "updated_at", o.UpdatedAt), ord.PlacedAt)
		events = append(events, o.cancellation(&v, ts, models.EventData{Customer: o.customerRef(), Order: ord}))
	}
	for i := range o.Refunds {
		r := o.Refunds[i].toRefund(&v)
		if r.Currency == "" {
			r.Currency = ord.Currency // the refund is the order's money
		}
		events = append(events, models.Event{
			Type:      models.RefundIssued,
			Timestamp: firstTime(fallback, r.IssuedAt),
			Data:      models.EventData{Customer: o.customerRef(), Order: ord, Refund: r},
		})
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return events, nil
}

// fulfillmentEvents maps fulfillments/create and fulfillments/update.
//
// A fulfillment counts as shipped once its status is "success". Fulfillment
// services create it "pending" and move it to "success" later, which only an
// update reports, so updates emit shipment.shipped too (kept once per
// fulfillment id). An update whose shipment_status is "delivered" adds
// shipment.delivered; the other carrier states (in_transit, out_for_delivery,
// failure, ...) add nothing.
func fulfillmentEvents(body []byte, fallback time.Time) ([]models.Event, error) {
	var f fulfillment
	if err := plugin.DecodeJSON("shopify", body, &f); err != nil {
		return nil, err
	}
	if f.Status != "success" {
		return nil, nil
	}
	var v models.ValidationError
	s := f.toShipment(&v, "")
	updated := timeField(&v, "updated_at", f.UpdatedAt)
	if err := v.Err(); err != nil {
		return nil, err
	}
	// The fulfillment payload names the customer only by e-mail.
	data := models.EventData{
		Customer: models.CustomerRef{Email: firstNonEmpty(f.Email)},
		Order:    &models.Order{ID: string(f.OrderID)},
		Shipment: s,
	}
	events := []models.Event{{Type: models.ShipmentShipped, Timestamp: firstTime(fallback, s.ShippedAt), Data: data}}
	if f.ShipmentStatus == "delivered" {
		delivered := *s
		delivered.DeliveredAt = updated
		data.Shipment = &delivered
		events = append(events, models.Event{Type: models.ShipmentDelivered, Timestamp: firstTime(fallback, updated), Data: data})
	}
	return events, nil
}

// refundEvent maps refunds/create. Shopify's refund payload names the order but
// not its customer: the event joins the order's customer, and waits for the
// order when that has not arrived yet (see the README's identity rules).
func refundEvent(body []byte, fallback time.Time) ([]models.Event, error) {
	var r refund
	if err := plugin.DecodeJSON("shopify", body, &r); err != nil {
		return nil, err
	}
	var v models.ValidationError
	ref := r.toRefund(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []models.Event{{
		Type:      models.RefundIssued,
		Timestamp: firstTime(fallback, ref.IssuedAt),
		Data:      models.EventData{Order: &models.Order{ID: string(r.OrderID)}, Refund: ref},
	}}, nil
}

// returnEvent maps the returns topics. Return payloads carry neither times nor,
// in Shopify's example, the customer or the items' SKUs: the event time is the
// trigger time, and items are listed only where the line item names a product.
func returnEvent(typ models.EventType) mapper {
	return func(body []byte, fallback time.Time) ([]models.Event, error) {
		var r returnPayload
		if err := plugin.DecodeJSON("shopify", body, &r); err != nil {
			return nil, err
		}
		ret := &models.Return{ID: string(r.ID)}
		for _, rli := range r.ReturnLineItems {
			if ret.Reason == "" {
				ret.Reason = rli.ReturnReason
			}
			li := rli.FulfillmentLineItem.LineItem
			li.Quantity = rli.Quantity
			if it, ok := li.toLineItem(); ok {
				ret.Items = append(ret.Items, it)
			}
		}
		var c models.CustomerRef
		if r.Customer != nil {
			c = r.Customer.ref()
		}
		return []models.Event{{
			Type:      typ,
			Timestamp: fallback,
			Data:      models.EventData{Customer: c, Order: &models.Order{ID: string(r.Order.ID)}, Return: ret},
		}}, nil
	}
}

// customerEvents maps customers/create (registered, plus the consent it was
// created with) and customers/update (the consent state only). Shopify sends the
// current state, not the change, so the consent event is dated by
// consent_updated_at: repeated updates with the same state then share a StepKey.
func customerEvents(created bool) mapper {
	return func(body []byte, fallback time.Time) ([]models.Event, error) {
		var c customer
		if err := plugin.DecodeJSON("shopify", body, &c); err != nil {
			return nil, err
		}
		var v models.ValidationError
		createdAt := timeField(&v, "created_at", c.CreatedAt)
		updatedAt := timeField(&v, "updated_at", c.UpdatedAt)
		var events []models.Event
		if created {
			events = append(events, models.Event{
				Type:      models.CustomerRegistered,
				Timestamp: firstTime(fallback, createdAt, updatedAt),
				Data:      models.EventData{Customer: c.ref()},
			})
		}
		if m := c.EmailMarketingConsent; m != nil {
			var typ models.EventType
			switch m.State {
			case "subscribed":
				typ = models.ConsentGranted
			case "unsubscribed":
				typ = models.ConsentRevoked
			}
			if typ != "" {
				at := firstTime(fallback,
					timeField(&v, "email_marketing_consent.consent_updated_at", m.ConsentUpdatedAt),
					timeField(&v, "accepts_marketing_updated_at", c.AcceptsMarketingUpdatedAt),
					updatedAt, createdAt)
				var atp *time.Time
				if !at.IsZero() {
					atp = &at
				}
				events = append(events, models.Event{
					Type:      typ,
					Timestamp: at,
					Data:      models.EventData{Customer: c.ref(), Consent: &models.Consent{Channel: "email", At: atp}},
				})
			}
		}
		if err := v.Err(); err != nil {
			return nil, err
		}
		return events, nil
	}
}

// privacyEvent maps the mandatory compliance topics. Their payloads carry no
// time, so the event is dated by X-Shopify-Triggered-At.
func privacyEvent(typ models.EventType) mapper {
	return func(body []byte, fallback time.Time) ([]models.Event, error) {
		var p privacyPayload
		if err := plugin.DecodeJSON("shopify", body, &p); err != nil {
			return nil, err
		}
		var c models.CustomerRef
		if p.Customer != nil && typ != models.ShopRedactRequested {
			c = models.CustomerRef{ID: string(p.Customer.ID), Email: firstNonEmpty(p.Customer.Email)}
		}
		return []models.Event{{Type: typ, Timestamp: fallback, Data: models.EventData{Customer: c}}}, nil
	}
}

// toOrder maps the order resource; bad times are recorded on v.
func (o *order) toOrder(v *models.ValidationError) *models.Order {
	out := &models.Order{
		ID:       string(o.ID),
		Number:   string(o.OrderNumber),
		PlacedAt: timeField(v, "created_at", o.CreatedAt),
		Currency: o.Currency,
		Total:    models.Money(o.TotalPrice),
		Test:     o.Test,
	}
	if out.Number == "" || out.Number == "0" {
		out.Number = o.Name
	}
	for _, li := range o.LineItems {
		if it, ok := li.toLineItem(); ok {
			out.Items = append(out.Items, it)
		}
	}
	if len(o.DiscountCodes) > 0 {
		out.Coupon = o.DiscountCodes[0].Code
	}
	return out
}

// customerRef prefers the embedded customer and falls back to the order's own
// e-mail fields, which guest checkouts fill without a customer record.
func (o *order) customerRef() models.CustomerRef {
	var c models.CustomerRef
	if o.Customer != nil {
		c = o.Customer.ref()
	}
	if c.Email == "" {
		c.Email = firstNonEmpty(o.Email, o.ContactEmail)
	}
	return c
}

func (c *customer) ref() models.CustomerRef {
	return models.CustomerRef{
		ID:        string(c.ID),
		Email:     firstNonEmpty(c.Email),
		FirstName: firstNonEmpty(c.FirstName),
		LastName:  firstNonEmpty(c.LastName),
	}
}

// toLineItem maps a line item. Custom items (no product, no SKU) and removed ones
// (quantity 0) are left out: they cannot be tied to a product, and the order
// event matters more than a complete item list.
func (li *lineItem) toLineItem() (models.LineItem, bool) {
	it := models.LineItem{
		SKU:       firstNonEmpty(li.SKU),
		ProductID: string(li.ProductID),
		Name:      firstNonEmpty(li.Name, li.Title),
		Quantity:  li.Quantity,
		UnitPrice: models.Money(li.Price),
	}
	if (it.SKU == "" && it.ProductID == "") || it.Quantity <= 0 {
		return models.LineItem{}, false
	}
	return it, true
}

// toShipment maps a fulfillment; prefix names it in validation errors.
func (f *fulfillment) toShipment(v *models.ValidationError, prefix string) *models.Shipment {
	if prefix != "" {
		prefix += "."
	}
	return &models.Shipment{
		ID:        string(f.ID),
		Carrier:   firstNonEmpty(f.TrackingCompany),
		Tracking:  firstNonEmpty(f.TrackingNumber),
		ShippedAt: timeField(v, prefix+"created_at", f.CreatedAt),
	}
}

// toRefund maps a refund. The amount is the sum of its successful refund
// transactions (what actually went back to the customer); failed or pending
// transactions are left out. A refund without such transactions (items only)
// has no amount.
//
// The currency is the transactions' own. Where they name none (or there are
// none), the refund line items' money sets do: the presentment currency first,
// which the transactions are paid in, then the shop's. A payload without
// either (trimmed with include_fields, say) leaves it empty, and the processor
// takes the order's.
func (r *refund) toRefund(v *models.ValidationError) *models.Refund {
	out := &models.Refund{
		ID:       string(r.ID),
		IssuedAt: firstTimePtr(timeField(v, "processed_at", r.ProcessedAt), timeField(v, "created_at", r.CreatedAt)),
	}
	var sum int64
	counted := false
	for i, t := range r.Transactions {
		if (t.Kind != "" && t.Kind != "refund") || (t.Status != "" && t.Status != "success") {
			continue
		}
		c, ok := models.Money(t.Amount).Cents()
		if !ok {
			v.Add("transactions["+strconv.Itoa(i)+"].amount", "must be a decimal string such as \"14.90\"")
			continue
		}
		sum += c
		counted = true
		if out.Currency == "" {
			out.Currency = t.Currency
		}
	}
	if counted {
		out.Amount = models.FormatCents(sum)
	}
	for _, rli := range r.RefundLineItems {
		li := rli.LineItem
		li.Quantity = rli.Quantity
		if it, ok := li.toLineItem(); ok {
			out.Items = append(out.Items, it)
		}
		if s := rli.SubtotalSet; s != nil && out.Currency == "" {
			out.Currency = firstNonEmpty(s.PresentmentMoney.CurrencyCode, s.ShopMoney.CurrencyCode)
		}
	}
	return out
}

func firstTimePtr(ts ...*time.Time) *time.Time {
	for _, t := range ts {
		if t != nil {
			return t
		}
	}
	return nil
}
