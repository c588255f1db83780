package adobe

import (
	"strconv"
	"strings"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

// productSave reports whether an I/O event type is a product save, which
// carries the product's stock (catalog_product_save_after and its commit
// variant).
func productSave(eventType string) bool {
	name, _ := strings.CutPrefix(eventType, observerPrefix)
	return name == "catalog_product_save_after" || name == "catalog_product_save_commit_after"
}

// productValue is the part of a product save Treue reads: only these fields
// are decoded, so the rest of a product's many attributes can never fail it.
type productValue struct {
	SKU   str `json:"sku"`
	Stock *struct {
		IsInStock str `json:"is_in_stock"`
		Qty       str `json:"qty"`
	} `json:"quantity_and_stock_status"`
}

// stockEvents maps a product save to product.stock_changed, a shop event:
// the quantity for sale, 0 when the product is out of stock whatever its
// quantity. Its time is the CloudEvent's (the save), since the product's
// updated_at may be the previous save's. A save without stock data (a
// subscription whose field list leaves it out) gives no event.
func (e *cloudEvent) stockEvents() ([]models.Event, error) {
	var v productValue
	if len(e.Data.Value) > 0 {
		if err := plugin.DecodeJSON("adobe", e.Data.Value, &v); err != nil {
			if ve, ok := err.(*models.ValidationError); ok {
				for i := range ve.Fields {
					ve.Fields[i].Field = "data.value." + ve.Fields[i].Field
				}
			}
			return nil, err
		}
	}
	if v.Stock == nil || v.SKU == "" {
		return nil, nil
	}
	var ve models.ValidationError
	at, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(e.Time))
	if err != nil {
		ve.Add("time", "is not an RFC 3339 time: %q", e.Time)
		return nil, ve.Err()
	}
	qty := 0.0
	if q := strings.TrimSpace(string(v.Stock.Qty)); q != "" {
		if qty, err = strconv.ParseFloat(q, 64); err != nil {
			ve.Add("data.value.quantity_and_stock_status.qty", "is not a number: %q", q)
			return nil, ve.Err()
		}
	}
	stock := int64(max(qty, 0))
	if s := string(v.Stock.IsInStock); s == "0" || s == "false" || s == "" {
		stock = 0
	}
	at = at.UTC()
	return []models.Event{{Type: models.ProductStockChanged, Timestamp: at,
		Data: models.EventData{Product: &models.ProductStock{SKU: string(v.SKU), Stock: stock, At: &at}}}}, nil
}
