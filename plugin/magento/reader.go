package magento

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/adobe"
)

var _ plugin.OrderReader = (*Connector)(nil)

// defaultPageSize keeps a page of orders, each with its items, well below
// egress.MaxBody.
const defaultPageSize = 100

// ReadOrders implements plugin.OrderReader: GET /V1/orders with
// searchCriteria updated_at >= From, sorted by entity_id (which never
// changes, so an order updated during the read can move into the selection
// but never out of it: pages shift forward, repeating an order, never
// skipping one), then the page's invoices, shipments, credit memos and,
// on Adobe Commerce, returns (RMA), each in one request with order_id in
// the page's ids. Every entity is mapped as its observer event is
// (plugin/adobe), which is also what the Treue_Loyalty module sends, so
// the steps carry the same keys. The cursor is the next page number.
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
			return plugin.OrderPage{}, plugin.Permanentf("magento: bad page cursor %q", q.Cursor)
		}
	}
	// Magento keeps times in UTC and compares them as text.
	from := q.From.UTC().Format(time.DateTime)
	crit := searchCriteria(size, "", [3]string{"updated_at", from, "gteq"})
	crit.Set("searchCriteria[sortOrders][0][field]", "entity_id")
	crit.Set("searchCriteria[sortOrders][0][direction]", "ASC")
	crit.Set("searchCriteria[currentPage]", strconv.Itoa(pageNo))
	var list struct {
		Items      []json.RawMessage `json:"items"`
		TotalCount int               `json:"total_count"`
	}
	if _, err := s.call(ctx, http.MethodGet, "/V1/orders", crit, nil, &list); err != nil {
		return plugin.OrderPage{}, err
	}
	page := plugin.OrderPage{Total: list.TotalCount}
	// Past the last page Magento answers the last page again.
	if (pageNo-1)*size >= list.TotalCount {
		return page, nil
	}
	if pageNo*size < list.TotalCount {
		page.Next = strconv.Itoa(pageNo + 1)
	}
	loc := shop.Location()
	byID := map[string]*plugin.APIOrder{}
	customers := map[string]models.CustomerRef{}
	var ids []string
	for _, raw := range list.Items {
		evs, err := adobe.EntityEvents(adobe.EntityOrder, raw, loc)
		if err != nil {
			return plugin.OrderPage{}, plugin.Permanentf("magento: /V1/orders: %v", err)
		}
		if len(evs) == 0 {
			continue
		}
		var head struct {
			UpdatedAt string `json:"updated_at"`
		}
		_ = json.Unmarshal(raw, &head)
		id := evs[0].Data.Order.ID
		o := plugin.APIOrder{ID: id, Events: evs}
		if t, err := time.ParseInLocation(time.DateTime, head.UpdatedAt, time.UTC); err == nil {
			o.UpdatedAt = t
		}
		page.Orders = append(page.Orders, o)
		ids = append(ids, id)
		customers[id] = evs[0].Data.Customer
	}
	for i := range page.Orders {
		byID[page.Orders[i].ID] = &page.Orders[i]
	}
	if len(ids) > 0 {
		for _, sub := range []struct{ path, kind string }{
			{"/V1/invoices", adobe.EntityInvoice},
			{"/V1/shipments", adobe.EntityShipment},
			{"/V1/creditmemos", adobe.EntityCreditmemo},
			{"/V1/returns", adobe.EntityRMA},
		} {
			if err := c.children(ctx, s, sub.path, sub.kind, ids, loc, byID, customers); err != nil {
				return plugin.OrderPage{}, err
			}
		}
	}
	for i := range page.Orders {
		for _, e := range page.Orders[i].Events {
			if err := e.Validate(); err != nil {
				return plugin.OrderPage{}, plugin.Permanentf("magento: order %s: %v", page.Orders[i].ID, err)
			}
		}
	}
	return page, nil
}

// children reads the entities of path that belong to the page's orders and
// adds their steps, naming each order's customer (the entities do not).
// Magento Open Source has no /V1/returns: a 404 there means no RMA.
func (c *Connector) children(ctx context.Context, s *session, path, kind string, ids []string, loc *time.Location,
	byID map[string]*plugin.APIOrder, customers map[string]models.CustomerRef) error {
	for p := 1; ; p++ {
		crit := searchCriteria(250, "", [3]string{"order_id", strings.Join(ids, ","), "in"})
		crit.Set("searchCriteria[currentPage]", strconv.Itoa(p))
		var list struct {
			Items      []json.RawMessage `json:"items"`
			TotalCount int               `json:"total_count"`
		}
		if _, err := s.call(ctx, http.MethodGet, path, crit, nil, &list); err != nil {
			var pe *plugin.Error
			if kind == adobe.EntityRMA && errors.As(err, &pe) && pe.StatusCode == http.StatusNotFound {
				return nil
			}
			return err
		}
		for _, raw := range list.Items {
			evs, err := adobe.EntityEvents(kind, raw, loc)
			if err != nil {
				return plugin.Permanentf("magento: %s: %v", path, err)
			}
			for _, e := range evs {
				o := byID[e.Data.Order.ID]
				if o == nil {
					continue
				}
				if e.Data.Customer.Empty() {
					e.Data.Customer = customers[o.ID]
				}
				o.Events = append(o.Events, e)
			}
		}
		if p*250 >= list.TotalCount {
			return nil
		}
	}
}
