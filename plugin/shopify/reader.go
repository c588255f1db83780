package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/treue/treue/egress"
	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/shopcall"
)

// The reader uses the REST Admin API's orders resource, not GraphQL: a REST
// order is the very document Shopify's order webhooks carry, so the webhook
// mapping applies to it unchanged and the events, and their step keys, are
// the webhooks' by construction. GraphQL names everything by gid:// ids and
// would need a second mapping that could drift; a bulk operation runs
// asynchronously and hands back one file at the end, which cannot be
// resumed page by page.

var _ plugin.OrderReader = (*Connector)(nil)

// defaultPageSize keeps a page of orders well below egress.MaxBody.
const defaultPageSize = 100

// ReadOrders implements plugin.OrderReader: GET /orders.json with status=any
// and updated_at_min, sorted by updated_at, in pages linked by the Link
// header's page_info (cursor pagination; the other query parameters may not
// be repeated with it).
func (c *Connector) ReadOrders(ctx context.Context, shop *models.Shop, q plugin.OrderQuery) (plugin.OrderPage, error) {
	base, err := c.base(shop)
	if err != nil {
		return plugin.OrderPage{}, err
	}
	size := q.PageSize
	if size <= 0 || size > 250 {
		size = defaultPageSize
	}
	api := base + "/admin/api/" + APIVersion
	params := url.Values{"limit": {strconv.Itoa(size)}}
	page := plugin.OrderPage{Total: -1}
	if q.Cursor != "" {
		params.Set("page_info", q.Cursor)
	} else {
		params.Set("status", "any")
		params.Set("updated_at_min", q.From.UTC().Format(time.RFC3339))
		params.Set("order", "updated_at asc")
		var n struct {
			Count int `json:"count"`
		}
		count := url.Values{"status": {"any"}, "updated_at_min": {params.Get("updated_at_min")}}
		if _, err := c.get(ctx, shop, api+"/orders/count.json?"+count.Encode(), &n); err != nil {
			return plugin.OrderPage{}, err
		}
		page.Total = n.Count
	}
	var body struct {
		Orders []json.RawMessage `json:"orders"`
	}
	r, err := c.get(ctx, shop, api+"/orders.json?"+params.Encode(), &body)
	if err != nil {
		return plugin.OrderPage{}, err
	}
	page.Next = nextPageInfo(r.Header.Get("Link"))
	page.Wait = bucketWait(r.Header.Get("X-Shopify-Shop-Api-Call-Limit"))
	for i, raw := range body.Orders {
		o, err := OrderFromAPI(raw)
		if err != nil {
			return plugin.OrderPage{}, plugin.Permanentf("shopify: %s: orders[%d]: %v", r.Exchange, i, err)
		}
		page.Orders = append(page.Orders, o)
	}
	return page, nil
}

// get sends one authenticated GET and decodes a 2xx answer into out.
func (c *Connector) get(ctx context.Context, shop *models.Shop, raw string, out any) (*egress.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, plugin.Permanentf("shopify: %v", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Shopify-Access-Token", shop.Secrets.AccessToken)
	r, err := egress.Do(c.Client, req)
	if err != nil {
		return r, shopcall.Failure(r, err, c.now(), "")
	}
	if !r.OK() {
		return r, shopcall.Failure(r, nil, c.now(), egress.Truncate(string(r.Body), 200))
	}
	if err := json.Unmarshal(r.Body, out); err != nil {
		return r, plugin.Permanentf("shopify: %s: unexpected answer: %v", r.Exchange, err)
	}
	return r, nil
}

var linkNext = regexp.MustCompile(`<([^>]+)>;\s*rel="?next"?`)

// nextPageInfo reads page_info from the Link header's rel="next" URL. Only
// the token is kept, never the URL: the next request is built against the
// shop's own domain.
func nextPageInfo(link string) string {
	for _, part := range strings.Split(link, ",") {
		m := linkNext.FindStringSubmatch(strings.TrimSpace(part))
		if m == nil {
			continue
		}
		if u, err := url.Parse(m[1]); err == nil {
			return u.Query().Get("page_info")
		}
	}
	return ""
}

// leakPerSecond is the REST bucket's leak rate on standard plans (Plus
// shops leak faster; waiting as for a standard plan is merely cautious).
const leakPerSecond = 2

// bucketWait reads X-Shopify-Shop-Api-Call-Limit ("32/40": calls in the
// bucket / its size) and asks for a pause once the bucket is more than
// three quarters full, long enough to drain it to half, so that the read
// never runs into 429s.
func bucketWait(h string) time.Duration {
	used, size, ok := strings.Cut(strings.TrimSpace(h), "/")
	if !ok {
		return 0
	}
	u, err1 := strconv.Atoi(used)
	s, err2 := strconv.Atoi(size)
	if err1 != nil || err2 != nil || s <= 0 || u*4 <= s*3 {
		return 0
	}
	return time.Duration(float64(u-s/2)/leakPerSecond*1000) * time.Millisecond
}

// OrderFromAPI maps one REST order resource to the events its webhooks
// yield: orders/create (order.placed, and order.cancelled for a cancelled
// or voided order), orders/paid when it is paid, orders/fulfilled and
// fulfillments/update (shipment.shipped per successful fulfillment,
// shipment.delivered where the carrier said so) and orders/updated
// (refund.issued per refund). Every event names the order's customer, and
// each step is dated by its own time where the order has one.
func OrderFromAPI(raw []byte) (plugin.APIOrder, error) {
	var o order
	if err := plugin.DecodeJSON("shopify", raw, &o); err != nil {
		return plugin.APIOrder{}, err
	}
	var v models.ValidationError
	updated := timeField(&v, "updated_at", o.UpdatedAt)
	if err := v.Err(); err != nil {
		return plugin.APIOrder{}, err
	}
	out := plugin.APIOrder{ID: string(o.ID)}
	if updated != nil {
		out.UpdatedAt = *updated
	}
	var events []models.Event
	add := func(m mapper, fallback time.Time) error {
		evs, err := m(raw, fallback)
		events = append(events, evs...)
		return err
	}
	if err := add(orderEvent(models.OrderPlaced), time.Time{}); err != nil {
		return out, err
	}
	if paid(o.FinancialStatus) && !o.cancelled() {
		n := len(events)
		if err := add(orderEvent(models.OrderPaid), time.Time{}); err != nil {
			return out, err
		}
		// orders/paid is dated by its trigger time; an order read later is
		// paid when it was processed, not when it last changed.
		at := firstTime(time.Time{}, timeField(&v, "processed_at", o.ProcessedAt), timeField(&v, "created_at", o.CreatedAt))
		for i := n; i < len(events); i++ {
			if events[i].Type == models.OrderPaid && !at.IsZero() {
				ord := *events[i].Data.Order
				ord.PaidAt = &at
				events[i].Data.Order = &ord
				events[i].Timestamp = at
			}
		}
	}
	if err := add(orderShipments, time.Time{}); err != nil {
		return out, err
	}
	ord := o.toOrder(&v)
	for i := range o.Fulfillments {
		f := &o.Fulfillments[i]
		if f.Status != "success" || f.ShipmentStatus != "delivered" {
			continue
		}
		s := f.toShipment(&v, "fulfillments[]")
		s.DeliveredAt = timeField(&v, "fulfillments[].updated_at", f.UpdatedAt)
		events = append(events, models.Event{Type: models.ShipmentDelivered, Timestamp: firstTime(out.UpdatedAt, s.DeliveredAt),
			Data: models.EventData{Customer: o.customerRef(), Order: ord, Shipment: s}})
	}
	if err := add(orderRefunds, time.Time{}); err != nil {
		return out, err
	}
	if err := v.Err(); err != nil {
		return out, err
	}
	for i := range events {
		e := &events[i]
		if e.Timestamp.IsZero() {
			e.Timestamp = out.UpdatedAt
		}
		if err := e.Validate(); err != nil {
			return out, fmt.Errorf("order %s: %w", out.ID, err)
		}
	}
	out.Events = dedupe(events)
	return out, nil
}

// paid reports whether a financial status means the money was taken (and
// orders/paid was sent), refunded since or not.
func paid(status string) bool {
	switch status {
	case "paid", "partially_refunded", "refunded":
		return true
	}
	return false
}

// dedupe keeps the first event of each step: orders/create of a cancelled
// order and orders/updated both yield its order.cancelled.
func dedupe(events []models.Event) []models.Event {
	seen := map[string]bool{}
	out := events[:0]
	for _, e := range events {
		k := e.StepKey()
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out
}
