package plugin

import (
	"context"
	"time"

	"github.com/treue/treue/models"
)

// StockLookup is a stock change a webhook announced without its level
// (Shopware's product.written names the product, Shopify's
// inventory_levels/update one location's quantity of an inventory item):
// the level for sale is read from the shop's API later, by a StockReader,
// so that the intake makes no outbound call.
type StockLookup struct {
	// Ref is the platform's id of what to read: a Shopware product id, a
	// Shopify inventory item id.
	Ref string
	// At is when the shop changed it, as the delivery says.
	At time.Time
}

// StockLevel is a product's level for sale as read from the shop's API.
type StockLevel struct {
	SKU   string
	Stock int64
}

// StockReader reads the level a StockLookup asks for. Errors are *Error:
// Transient ones are worth another try, Permanent ones (the product was
// deleted, the app lacks the permission) are not.
type StockReader interface {
	ReadStock(ctx context.Context, shop *models.Shop, ref string) (StockLevel, error)
}
