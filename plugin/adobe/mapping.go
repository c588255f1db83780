package adobe

import (
	"strconv"
	"strings"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

// observerPrefix starts the I/O event type of every Commerce observer event:
// "observer.sales_order_save_commit_after" arrives as
// "com.adobe.commerce.observer.sales_order_save_commit_after".
const observerPrefix = "com.adobe.commerce.observer."

// mapFunc maps one entity to journey events; fallback is the CloudEvents time,
// and bad fields are recorded on ve.
type mapFunc func(v *value, fallback time.Time, ve *models.ValidationError) []models.Event

// mapperFor returns the mapping of a Commerce observer event, nil for events
// Treue does not use. Both the *_save_after and *_save_commit_after variants are
// accepted, since merchants subscribe to either; the same step arriving through
// both is kept once by models.Event.StepKey.
func mapperFor(eventType string) mapFunc {
	name, ok := strings.CutPrefix(eventType, observerPrefix)
	if !ok {
		return nil
	}
	switch name {
	case "sales_order_save_commit_after", "sales_order_save_after":
		return orderEvents
	case "sales_order_invoice_save_commit_after", "sales_order_invoice_save_after":
		return invoiceEvents
	case "sales_order_shipment_save_commit_after", "sales_order_shipment_save_after":
		return shipmentEvents
	case "sales_order_creditmemo_save_commit_after", "sales_order_creditmemo_save_after":
		return creditmemoEvents
	case "rma_save_commit_after", "rma_save_after":
		return rmaEvents
	case "customer_register_success":
		return registerEvents
	}
	return nil
}

// events maps one CloudEvent. data.value is decoded only for known types, so a
// payload Treue does not use can never fail the delivery.
func (e *cloudEvent) events(loc *time.Location) ([]models.Event, error) {
	if productSave(e.Type) {
		return e.stockEvents() // back in stock (stock.go)
	}
	m := mapperFor(e.Type)
	if m == nil {
		return nil, nil
	}
	var v value
	if len(e.Data.Value) > 0 {
		if err := plugin.DecodeJSON("adobe", e.Data.Value, &v); err != nil {
			ve, ok := err.(*models.ValidationError)
			if !ok {
				// The envelope decoded, so the JSON is sound: value is just not an object.
				ve = &models.ValidationError{}
				ve.Add("data.value", "must be a JSON object")
				return nil, ve
			}
			for i := range ve.Fields {
				ve.Fields[i].Field = "data.value." + ve.Fields[i].Field
			}
			return nil, ve
		}
	}
	v.loc = loc
	var ve models.ValidationError
	var fallback time.Time
	if t := strings.TrimSpace(e.Time); t != "" {
		if parsed, err := time.Parse(time.RFC3339Nano, t); err == nil {
			fallback = parsed.UTC()
		} else {
			ve.Add("time", "is not an RFC 3339 time: %q", t)
		}
	}
	events := m(&v, fallback, &ve)
	if err := ve.Err(); err != nil {
		return nil, err
	}
	return events, nil
}

// orderEvents maps an order save. Commerce fires it on every save of the order
// (status changes, comments, invoices), and the payload cannot tell a new order
// from an old one reliably, so every save emits order.placed: its StepKey is the
// order id, so only the first is kept, and its time is the order's created_at.
// An order Treue first hears of after installation is thereby recorded too.
// State "canceled" and "complete" add order.cancelled and order.completed.
func orderEvents(v *value, fallback time.Time, ve *models.ValidationError) []models.Event {
	o := &models.Order{
		ID:       first(v.EntityID, v.ID),
		Number:   string(v.IncrementID),
		PlacedAt: magentoTime(v.loc, ve, "data.value.created_at", v.CreatedAt),
		Currency: string(v.OrderCurrencyCode),
		Total:    amount(ve, "data.value.grand_total", v.GrandTotal),
		Items:    lineItems(ve, v.Items, func(it *item) str { return str(first(it.QtyOrdered, it.Qty)) }),
		Coupon:   string(v.CouponCode),
	}
	ts := firstTime(fallback, magentoTime(v.loc, ve, "data.value.updated_at", v.UpdatedAt), o.PlacedAt)
	data := models.EventData{Customer: v.customer(), Order: o}
	events := []models.Event{{Type: models.OrderPlaced, Timestamp: firstTime(ts, o.PlacedAt), Data: data}}
	switch first(v.State, v.Status) {
	case "canceled":
		events = append(events, models.Event{Type: models.OrderCancelled, Timestamp: ts, Data: data})
	case "complete":
		events = append(events, models.Event{Type: models.OrderCompleted, Timestamp: ts, Data: data})
	}
	return events
}

// invoiceEvents maps an invoice save to order.paid once the invoice is paid
// (state 2; 1 is open, 3 canceled). Without a state in the payload the invoice
// is taken as paid, which is what an online capture creates.
func invoiceEvents(v *value, fallback time.Time, ve *models.ValidationError) []models.Event {
	if st := string(v.State); st != "" && st != "2" && st != "paid" {
		return nil
	}
	o := v.orderRef(ve)
	o.PaidAt = magentoTime(v.loc, ve, "data.value.created_at", v.CreatedAt)
	if o.Currency == "" {
		o.Currency = string(v.OrderCurrencyCode)
	}
	ts := firstTime(fallback, magentoTime(v.loc, ve, "data.value.updated_at", v.UpdatedAt), o.PaidAt)
	return []models.Event{{Type: models.OrderPaid, Timestamp: ts, Data: models.EventData{Customer: v.customer(), Order: o}}}
}

// shipmentEvents maps a shipment save to shipment.shipped, keyed by the
// shipment id. Tracking numbers are only there if the tracks were saved with the
// shipment (the usual admin flow).
func shipmentEvents(v *value, fallback time.Time, ve *models.ValidationError) []models.Event {
	s := &models.Shipment{
		ID:        first(v.EntityID, v.ID),
		ShippedAt: magentoTime(v.loc, ve, "data.value.created_at", v.CreatedAt),
	}
	for _, t := range v.Tracks {
		if t.TrackNumber != "" {
			s.Tracking = string(t.TrackNumber)
			s.Carrier = first(t.Title, t.CarrierCode)
			break
		}
	}
	ts := firstTime(fallback, s.ShippedAt)
	return []models.Event{{Type: models.ShipmentShipped, Timestamp: ts,
		Data: models.EventData{Customer: v.customer(), Order: v.orderRef(ve), Shipment: s}}}
}

// creditmemoEvents maps a credit memo save to refund.issued once it is refunded
// (state 2; 1 is open, 3 canceled). In Magento Open Source a credit memo is also
// how returned goods show up, as there is no RMA.
func creditmemoEvents(v *value, fallback time.Time, ve *models.ValidationError) []models.Event {
	if st := string(v.State); st != "" && st != "2" && st != "refunded" {
		return nil
	}
	o := v.orderRef(ve)
	r := &models.Refund{
		ID:       first(v.EntityID, v.ID),
		Amount:   amount(ve, "data.value.grand_total", v.GrandTotal),
		Currency: first(v.OrderCurrencyCode, str(o.Currency)),
		IssuedAt: magentoTime(v.loc, ve, "data.value.created_at", v.CreatedAt),
		// A credit memo lists every order item, with qty 0 for those not refunded.
		Items: lineItems(ve, v.Items, func(it *item) str { return it.Qty }),
	}
	return []models.Event{{Type: models.RefundIssued, Timestamp: firstTime(fallback, r.IssuedAt),
		Data: models.EventData{Customer: v.customer(), Order: o, Refund: r}}}
}

// rmaEvents maps an Adobe Commerce RMA save by its status: pending and
// (partially) authorized returns are requested; received, approved and
// processed ones are back at the warehouse. Rejected, denied and closed (given
// up) returns add nothing.
func rmaEvents(v *value, fallback time.Time, ve *models.ValidationError) []models.Event {
	var typ models.EventType
	switch string(v.Status) {
	case "pending", "authorized", "partially_authorized":
		typ = models.ReturnRequested
	case "received", "received_on_item", "approved", "approved_on_item", "processed_closed":
		typ = models.ReturnReceived
	default:
		return nil
	}
	requested := magentoTime(v.loc, ve, "data.value.date_requested", v.DateRequested)
	updated := magentoTime(v.loc, ve, "data.value.updated_at", v.UpdatedAt)
	r := &models.Return{ID: first(v.EntityID, v.ID), RequestedAt: requested}
	qty := func(it *item) str { return it.QtyRequested }
	ts := firstTime(fallback, requested)
	if typ == models.ReturnReceived {
		r.ReceivedAt = updated
		qty = func(it *item) str { return str(first(it.QtyReturned, it.QtyApproved, it.QtyRequested, it.Qty)) }
		ts = firstTime(fallback, updated, requested)
	}
	r.Items = lineItems(ve, v.Items, qty)
	return []models.Event{{Type: typ, Timestamp: ts, Data: models.EventData{Customer: v.customer(), Order: v.orderRef(ve), Return: r}}}
}

// registerEvents maps customer_register_success, whose fields are the
// customer's, flat or nested under "customer".
func registerEvents(v *value, fallback time.Time, ve *models.ValidationError) []models.Event {
	c := v
	if v.Customer != nil {
		c = v.Customer
	}
	ref := models.CustomerRef{
		ID:        first(c.ID, c.EntityID, c.CustomerID),
		Email:     first(c.Email, c.CustomerEmail),
		FirstName: first(c.Firstname, c.CustomerFirstname),
		LastName:  first(c.Lastname, c.CustomerLastname),
	}
	// A birthday Magento cannot give as a date is left out rather than failing
	// the registration.
	if dob := string(c.Dob); len(dob) >= 10 {
		if _, err := time.Parse(time.DateOnly, dob[:10]); err == nil {
			ref.Birthday = dob[:10]
		}
	}
	ts := firstTime(fallback, magentoTime(v.loc, ve, "data.value.created_at", c.CreatedAt))
	return []models.Event{{Type: models.CustomerRegistered, Timestamp: ts, Data: models.EventData{Customer: ref}}}
}

// customer reads the customer of an order-like entity; fields the entity lacks
// are taken from its nested order.
func (v *value) customer() models.CustomerRef {
	c := models.CustomerRef{
		ID:        string(v.CustomerID),
		Email:     first(v.CustomerEmail, v.CustomerCustomEmail),
		FirstName: string(v.CustomerFirstname),
		LastName:  string(v.CustomerLastname),
	}
	if o := v.Order; o != nil {
		oc := o.customer()
		c.ID = first(str(c.ID), str(oc.ID))
		c.Email = first(str(c.Email), str(oc.Email))
		c.FirstName = first(str(c.FirstName), str(oc.FirstName))
		c.LastName = first(str(c.LastName), str(oc.LastName))
	}
	// Guests have no customer id; some serializations send 0 for it.
	if c.ID == "0" {
		c.ID = ""
	}
	return c
}

// orderRef is the order an invoice, shipment, credit memo or RMA belongs to: its
// entity id (order_id) and, where present, increment id and totals.
func (v *value) orderRef(ve *models.ValidationError) *models.Order {
	o := &models.Order{ID: string(v.OrderID), Number: string(v.OrderIncrementID)}
	if n := v.Order; n != nil {
		o.ID = first(str(o.ID), n.EntityID, n.ID)
		o.Number = first(str(o.Number), n.IncrementID)
		o.Currency = string(n.OrderCurrencyCode)
		o.Total = amount(ve, "data.value.order.grand_total", n.GrandTotal)
	}
	return o
}

// lineItems maps items, leaving out child items of configurable and bundle
// products (their parent carries the SKU and price) and items with no product
// or no quantity.
func lineItems(ve *models.ValidationError, items []item, qty func(*item) str) []models.LineItem {
	var out []models.LineItem
	for i := range items {
		it := &items[i]
		if it.ParentItemID != "" && it.ParentItemID != "0" {
			continue
		}
		li := models.LineItem{
			SKU:       first(it.SKU, it.ProductSKU),
			ProductID: string(it.ProductID),
			Name:      first(it.Name, it.ProductName),
			Quantity:  quantity(qty(it)),
			UnitPrice: amount(ve, "data.value.items["+strconv.Itoa(i)+"].price", it.Price),
		}
		if (li.SKU == "" && li.ProductID == "") || li.Quantity <= 0 {
			continue
		}
		out = append(out, li)
	}
	return out
}
