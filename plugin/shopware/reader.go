package shopware

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

var _ plugin.OrderReader = (*Connector)(nil)

// defaultPageSize keeps a page of orders with their associations well below
// egress.MaxBody.
const defaultPageSize = 100

// apiOrder is an order entity of the Admin API with the fields the
// webhooks' payload lacks: its own state and times.
type apiOrder struct {
	swOrder
	CreatedAt         string   `json:"createdAt"`
	UpdatedAt         string   `json:"updatedAt"`
	StateMachineState *swState `json:"stateMachineState"`
}

// ReadOrders implements plugin.OrderReader: POST /api/search/order with the
// associations the webhooks' order payload carries (the app's read
// permissions cover them), the orders created or
// updated since From (Shopware leaves updatedAt empty until an order is
// first changed, hence both), sorted by createdAt and id, which never
// change: an order updated during the read can enter the selection but
// never leave it, so pages shift forward (repeating an order, which is a
// no-op) and never skip one. The cursor is the next page number.
//
// Each order yields what its state_enter webhooks yielded on the way to its
// current state: checkout.order.placed, paid for a transaction that is paid
// or refunded since, refunded(_partially), shipped for a delivery that is
// shipped or returned since, returned(_partially), and the order's
// completed or cancelled, each keyed as the webhook keys it.
func (c *Connector) ReadOrders(ctx context.Context, shop *models.Shop, q plugin.OrderQuery) (plugin.OrderPage, error) {
	s, err := c.sessionFor(shop)
	if err != nil {
		return plugin.OrderPage{}, err
	}
	size := q.PageSize
	if size <= 0 || size > 250 {
		size = defaultPageSize
	}
	pageNo := 1
	if q.Cursor != "" {
		if pageNo, err = strconv.Atoi(q.Cursor); err != nil || pageNo < 1 {
			return plugin.OrderPage{}, plugin.Permanentf("shopware: bad page cursor %q", q.Cursor)
		}
	}
	from := q.From.UTC().Format(time.RFC3339)
	withState := map[string]any{"associations": map[string]any{"stateMachineState": map[string]any{}}}
	criteria := map[string]any{
		"page": pageNo, "limit": size, "total-count-mode": 1,
		"filter": []any{map[string]any{"type": "multi", "operator": "or", "queries": []any{
			map[string]any{"type": "range", "field": "updatedAt", "parameters": map[string]any{"gte": from}},
			map[string]any{"type": "range", "field": "createdAt", "parameters": map[string]any{"gte": from}},
		}}},
		"sort": []any{map[string]any{"field": "createdAt", "order": "ASC"}, map[string]any{"field": "id", "order": "ASC"}},
		"associations": map[string]any{
			"lineItems": map[string]any{}, "currency": map[string]any{}, "orderCustomer": map[string]any{},
			"stateMachineState": map[string]any{}, "transactions": withState,
			// Not shippingMethod: the app's manifest has no read on
			// shipping_method, and a search with an association it may not
			// read is refused as a whole. Imported shipments have no carrier.
			"deliveries": withState,
		},
	}
	var body struct {
		Total int        `json:"total"`
		Data  []apiOrder `json:"data"`
	}
	if _, err := s.call(ctx, http.MethodPost, "/api/search/order", criteria, read, &body); err != nil {
		return plugin.OrderPage{}, err
	}
	page := plugin.OrderPage{Total: body.Total}
	if pageNo*size < body.Total && len(body.Data) > 0 {
		page.Next = strconv.Itoa(pageNo + 1)
	}
	for i := range body.Data {
		o, err := body.Data[i].events()
		if err != nil {
			return plugin.OrderPage{}, plugin.Permanentf("shopware: /api/search/order: order %s: %v", body.Data[i].ID, err)
		}
		page.Orders = append(page.Orders, o)
	}
	return page, nil
}

// events maps an order entity through the webhooks' orderEvent, one
// transaction or delivery at a time, so that each step names the entry the
// webhook for it would have named.
func (o *apiOrder) events() (plugin.APIOrder, error) {
	out := plugin.APIOrder{ID: o.ID}
	placed := parseTime(o.OrderDateTime)
	updated := parseTime(o.UpdatedAt)
	ts := time.Time{}
	for _, t := range []*time.Time{updated, parseTime(o.CreatedAt), placed} {
		if t != nil {
			ts = *t
			break
		}
	}
	out.UpdatedAt = ts
	add := func(topic string, one *swOrder) models.Event {
		e := orderEvent(topic, one, ts)
		out.Events = append(out.Events, e)
		return e
	}
	add("checkout.order.placed", &o.swOrder)
	paid := false
	for _, t := range o.Transactions {
		one := o.swOrder
		one.Transactions = []swTransaction{t}
		switch state(t.StateMachineState) {
		case "paid":
			if !paid {
				add(transactionState+"paid", &one)
				paid = true
			}
		case "refunded", "refunded_partially":
			if !paid {
				// Paid before it was refunded; when is not in the entity any
				// more, so the payment is dated by the order.
				e := add(transactionState+"paid", &one)
				if placed != nil {
					e.Data.Order.PaidAt = placed
				}
				paid = true
			}
			add(transactionState+state(t.StateMachineState), &one)
		}
	}
	for _, d := range o.Deliveries {
		one := o.swOrder
		one.Deliveries = []swDelivery{d}
		switch st := state(d.StateMachineState); st {
		case "shipped", "shipped_partially":
			add(deliveryState+st, &one)
		case "returned", "returned_partially":
			e := add(deliveryState+"shipped", &one)
			if placed != nil {
				e.Data.Shipment.ShippedAt = placed // shipped before it came back; when is gone
			}
			add(deliveryState+st, &one)
		}
	}
	switch st := state(o.StateMachineState); st {
	case "completed", "cancelled":
		add(orderState+st, &o.swOrder)
	}
	for i := range out.Events {
		if err := out.Events[i].Validate(); err != nil {
			return out, err
		}
	}
	return out, nil
}

func state(s *swState) string {
	if s == nil {
		return ""
	}
	return s.TechnicalName
}
