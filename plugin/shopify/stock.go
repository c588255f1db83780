package shopify

import (
	"context"
	"net/url"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

// inventoryLevelsUpdate names an inventory item and one location's
// available quantity, not the SKU nor the total for sale: it becomes a
// plugin.StockLookup, and ReadStock reads both from the Admin API.
const inventoryLevelsUpdate = "inventory_levels/update"

// inventoryLevel is the inventory_levels/update payload (and an entry of
// GET inventory_levels.json).
type inventoryLevel struct {
	InventoryItemID id     `json:"inventory_item_id"`
	LocationID      id     `json:"location_id"`
	Available       *int64 `json:"available"`
	UpdatedAt       string `json:"updated_at"`
}

// stockLookups maps an inventory_levels/update to a lookup of its inventory
// item, dated by the level's updated_at (else the trigger time).
func stockLookups(topic string, body []byte, fallback time.Time) ([]plugin.StockLookup, error) {
	if topic != inventoryLevelsUpdate {
		return nil, nil
	}
	var l inventoryLevel
	if err := plugin.DecodeJSON("shopify", body, &l); err != nil {
		return nil, err
	}
	var v models.ValidationError
	if !numericID.MatchString(string(l.InventoryItemID)) {
		v.Add("inventory_item_id", "is required")
	}
	at := firstTime(fallback, timeField(&v, "updated_at", l.UpdatedAt))
	if at.IsZero() {
		v.Add("updated_at", "is required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []plugin.StockLookup{{Ref: string(l.InventoryItemID), At: at}}, nil
}

var _ plugin.StockReader = (*Connector)(nil)

// ReadStock implements plugin.StockReader with the REST Admin API, as the
// order reader does: GET inventory_items/{id}.json for the SKU (the
// variant's, which order lines carry) and GET inventory_levels.json for
// the item's levels, summed over its locations: what the shop can sell in
// all. An item whose inventory is not tracked has no level to wait for; a
// deleted one answers 404. Both are permanent errors.
func (c *Connector) ReadStock(ctx context.Context, shop *models.Shop, ref string) (plugin.StockLevel, error) {
	if !numericID.MatchString(ref) {
		return plugin.StockLevel{}, plugin.Permanentf("shopify: %q is not an inventory item id", ref)
	}
	base, err := c.base(shop)
	if err != nil {
		return plugin.StockLevel{}, err
	}
	api := base + "/admin/api/" + APIVersion
	var item struct {
		InventoryItem struct {
			SKU     string `json:"sku"`
			Tracked *bool  `json:"tracked"`
		} `json:"inventory_item"`
	}
	r, err := c.get(ctx, shop, api+"/inventory_items/"+ref+".json", &item)
	if err != nil {
		return plugin.StockLevel{}, err
	}
	it := item.InventoryItem
	if it.SKU == "" {
		return plugin.StockLevel{}, plugin.Permanentf("shopify: %s: inventory item %s has no sku", r.Exchange, ref)
	}
	if it.Tracked != nil && !*it.Tracked {
		return plugin.StockLevel{}, plugin.Permanentf("shopify: %s: inventory item %s is not tracked", r.Exchange, ref)
	}
	var levels struct {
		InventoryLevels []inventoryLevel `json:"inventory_levels"`
	}
	q := url.Values{"inventory_item_ids": {ref}, "limit": {"250"}}
	if _, err := c.get(ctx, shop, api+"/inventory_levels.json?"+q.Encode(), &levels); err != nil {
		return plugin.StockLevel{}, err
	}
	var total int64
	for _, l := range levels.InventoryLevels {
		if l.Available != nil && *l.Available > 0 {
			// A location that oversold (negative) takes nothing from the others.
			total += *l.Available
		}
	}
	return plugin.StockLevel{SKU: it.SKU, Stock: total}, nil
}
