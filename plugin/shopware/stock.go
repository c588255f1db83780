package shopware

import (
	"context"
	json "github.com/go-json-experiment/json/v1"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

// productWritten is the entity-written event of products. It carries the
// ids and the names of the changed fields, never their values, so a stock
// change becomes a plugin.StockLookup and its level is read from the Admin
// API (ReadStock).
const productWritten = "product.written"

// writtenEntity is one entry of an entity-written payload.
type writtenEntity struct {
	Entity        string          `json:"entity"`
	Operation     string          `json:"operation"`
	PrimaryKey    json.RawMessage `json:"primaryKey"`
	UpdatedFields []string        `json:"updatedFields"`
}

// shopwareID is the form of a Shopware entity id (a UUID without dashes).
var shopwareID = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)

// stockLookups maps a product.written to a lookup per product whose stock
// changed: a write that touches stock or availableStock (an order placed or
// cancelled changes availableStock alone). Inserts count too: a product
// created with stock may be what a subscriber waits for under its number.
// Deletions and other writes give none.
func stockLookups(topic string, raw json.RawMessage, ts time.Time) ([]plugin.StockLookup, error) {
	if topic != productWritten {
		return nil, nil
	}
	var list []writtenEntity
	if err := decodePayload(raw, &list); err != nil {
		return nil, err
	}
	var out []plugin.StockLookup
	var v models.ValidationError
	for _, w := range list {
		if w.Entity != "product" || w.Operation == "delete" {
			continue
		}
		if w.Operation != "insert" && !slices.Contains(w.UpdatedFields, "stock") && !slices.Contains(w.UpdatedFields, "availableStock") {
			continue
		}
		var id string
		if json.Unmarshal(w.PrimaryKey, &id) != nil || !shopwareID.MatchString(id) {
			v.Add("data.payload[].primaryKey", "is not a product id: %s", string(w.PrimaryKey))
			continue
		}
		if ts.IsZero() {
			v.Add("timestamp", "is required")
			break
		}
		out = append(out, plugin.StockLookup{Ref: id, At: ts})
	}
	return out, v.Err()
}

var _ plugin.StockReader = (*Connector)(nil)

// ReadStock implements plugin.StockReader: GET /api/product/{id}, whose
// productNumber is the SKU of the shop's order lines and whose
// availableStock is what can still be sold (stock less the open orders'
// quantities), the level back-in-stock notices wait for. A deleted product
// answers 404, a permanent error.
func (c *Connector) ReadStock(ctx context.Context, shop *models.Shop, ref string) (plugin.StockLevel, error) {
	if !shopwareID.MatchString(ref) {
		return plugin.StockLevel{}, plugin.Permanentf("shopware: %q is not a product id", ref)
	}
	s, err := c.sessionFor(shop)
	if err != nil {
		return plugin.StockLevel{}, err
	}
	var body struct {
		Data struct {
			ProductNumber  string `json:"productNumber"`
			AvailableStock *int64 `json:"availableStock"`
			Stock          int64  `json:"stock"`
		} `json:"data"`
	}
	r, err := s.call(ctx, http.MethodGet, "/api/product/"+url.PathEscape(ref), nil, read, &body)
	if err != nil {
		return plugin.StockLevel{}, err
	}
	p := body.Data
	if p.ProductNumber == "" {
		return plugin.StockLevel{}, plugin.Permanentf("shopware: %s: product %s has no productNumber", r.Exchange, ref)
	}
	level := p.Stock
	if p.AvailableStock != nil {
		level = *p.AvailableStock
	}
	return plugin.StockLevel{SKU: p.ProductNumber, Stock: max(level, 0)}, nil
}
