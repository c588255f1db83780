package shopware

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/treue/treue/plugin"
)

// TestReadStock: the level of a product.written is its availableStock (what
// can still be sold), under its productNumber; a deleted product is a
// permanent failure, a shop that is down a transient one.
func TestReadStock(t *testing.T) {
	const sold, gone, down = "4f6a8c0e2b4d46f8a0c2e4b6d8f0a2c4", "5f6a8c0e2b4d46f8a0c2e4b6d8f0a2c4", "6f6a8c0e2b4d46f8a0c2e4b6d8f0a2c4"
	f := newFakeShop(t)
	f.stock = map[string]fakeProduct{sold: {Number: "BEAN-ESP-1KG", Stock: 7, Available: 4}}
	f.fault = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/product/"+down {
			swError(w, 503, "FRAMEWORK__SERVICE_UNAVAILABLE", "maintenance")
			return true
		}
		return false
	}
	c := testConnector(5 * time.Second)
	ctx := context.Background()
	got, err := c.ReadStock(ctx, readerShop(f), sold)
	if err != nil || got != (plugin.StockLevel{SKU: "BEAN-ESP-1KG", Stock: 4}) {
		t.Fatalf("ReadStock = %+v, %v", got, err)
	}
	f.stock[sold] = fakeProduct{Number: "BEAN-ESP-1KG", Stock: 2, Available: -1}
	if got, err := c.ReadStock(ctx, readerShop(f), sold); err != nil || got.Stock != 0 {
		t.Fatalf("oversold: ReadStock = %+v, %v", got, err)
	}
	var pe *plugin.Error
	if _, err := c.ReadStock(ctx, readerShop(f), gone); !errors.As(err, &pe) || pe.Kind != plugin.Permanent || pe.StatusCode != 404 {
		t.Fatalf("deleted product: %v", err)
	}
	if _, err := c.ReadStock(ctx, readerShop(f), down); !errors.As(err, &pe) || pe.Kind != plugin.Transient {
		t.Fatalf("shop down: %v", err)
	}
	if _, err := c.ReadStock(ctx, readerShop(f), "../oauth/token"); !errors.As(err, &pe) || pe.Kind != plugin.Permanent {
		t.Fatalf("bad id: %v", err)
	}
	if n := f.count("GET /api/product/"); n != 4 {
		t.Fatalf("%d product reads, want 4 (the bad id is never sent)", n)
	}
}
