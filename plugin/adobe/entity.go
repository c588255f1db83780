package adobe

import (
	"fmt"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

// Entity kinds EntityEvents maps: the REST resources of Magento's sales
// API, whose fields are those the Commerce observer events carry.
const (
	EntityOrder      = "order"
	EntityInvoice    = "invoice"
	EntityShipment   = "shipment"
	EntityCreditmemo = "creditmemo"
	EntityRMA        = "rma"
)

// EntityEvents maps one Magento sales entity, as GET /V1/orders,
// /V1/invoices, /V1/shipments, /V1/creditmemos or /V1/returns list it, with
// the mapping of its observer event, so that an entity read from the API
// yields the steps, and the step keys, its event does. loc is the shop's
// time zone for dates without a time.
func EntityEvents(kind string, raw []byte, loc *time.Location) ([]models.Event, error) {
	var m mapFunc
	switch kind {
	case EntityOrder:
		m = orderEvents
	case EntityInvoice:
		m = invoiceEvents
	case EntityShipment:
		m = shipmentEvents
	case EntityCreditmemo:
		m = creditmemoEvents
	case EntityRMA:
		m = rmaEvents
	default:
		return nil, fmt.Errorf("adobe: unknown entity kind %q", kind)
	}
	var v value
	if err := plugin.DecodeJSON("adobe", raw, &v); err != nil {
		return nil, err
	}
	v.loc = loc
	var ve models.ValidationError
	events := m(&v, time.Time{}, &ve)
	if err := ve.Err(); err != nil {
		return nil, err
	}
	return events, nil
}
