package shopify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/egress"
	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

// fakeInventory is the REST Admin API's inventory resources: items by id
// and their levels per location, behind the access token.
type fakeInventory struct {
	srv    *httptest.Server
	mu     sync.Mutex
	token  string
	items  map[string]string   // inventory item id -> sku
	levels map[string][]string // inventory item id -> "available" per location ("null" for none)
	calls  []string
	status int // when set, every call answers it
}

func newFakeInventory(t *testing.T) *fakeInventory {
	f := &fakeInventory{token: "shpat_fake", items: map[string]string{}, levels: map[string][]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeInventory) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.RequestURI())
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("X-Shopify-Access-Token") != f.token {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`)
		return
	}
	if f.status != 0 {
		w.WriteHeader(f.status)
		fmt.Fprint(w, `{"errors":"unavailable"}`)
		return
	}
	const api = "/admin/api/" + APIVersion + "/"
	switch path := strings.TrimPrefix(r.URL.Path, api); {
	case r.Method == http.MethodGet && strings.HasPrefix(path, "inventory_items/") && strings.HasSuffix(path, ".json"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "inventory_items/"), ".json")
		sku, ok := f.items[id]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":"Not Found"}`)
			return
		}
		fmt.Fprintf(w, `{"inventory_item":{"id":%s,"sku":%q,"tracked":true,"requires_shipping":true}}`, id, sku)
	case r.Method == http.MethodGet && path == "inventory_levels.json":
		id := r.URL.Query().Get("inventory_item_ids")
		var parts []string
		for i, a := range f.levels[id] {
			parts = append(parts, fmt.Sprintf(`{"inventory_item_id":%s,"location_id":%d,"available":%s,"updated_at":"2026-06-10T10:00:00+02:00"}`, id, 100+i, a))
		}
		fmt.Fprintf(w, `{"inventory_levels":[%s]}`, strings.Join(parts, ","))
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"errors":"Not Found"}`)
	}
}

// TestParse_InventoryLevelsUpdate: the topic names an inventory item and
// one location's level; it becomes a lookup of the item, dated by its
// updated_at.
func TestParse_InventoryLevelsUpdate(t *testing.T) {
	body, err := os.ReadFile("testdata/inventory_levels_update.json")
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(headerTopic, "inventory_levels/update")
	h.Set(headerWebhookID, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
	h.Set(headerTriggeredAt, "2026-06-10T08:00:01Z")
	p, err := New().Parse(&plugin.Delivery{Header: h, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	want := []plugin.StockLookup{{Ref: "49148385", At: time.Date(2026, 6, 10, 8, 0, 0, 0, time.UTC)}}
	if len(p.Events) != 0 || fmt.Sprint(p.StockLookups) != fmt.Sprint(want) {
		t.Fatalf("Parse = %+v, want lookups %v", p, want)
	}
	_, err = New().Parse(&plugin.Delivery{Header: h, Body: []byte(`{"location_id":1,"available":3,"updated_at":"2026-06-10T10:00:00+02:00"}`)})
	var ve *models.ValidationError
	if !errors.As(err, &ve) || ve.Fields[0].Field != "inventory_item_id" {
		t.Fatalf("without inventory_item_id: %v", err)
	}
}

// TestReadStock: the level is the item's sku and its available quantity
// summed over the locations (an oversold location counts as none); a
// deleted item is a permanent failure, a 503 a transient one.
func TestReadStock(t *testing.T) {
	f := newFakeInventory(t)
	f.items["49148385"] = "BEAN-ESP-1KG"
	f.levels["49148385"] = []string{"3", "-2", "null", "4"}
	c := NewConnector(egress.NewClient(egress.Options{Timeout: 5 * time.Second, AllowHosts: []string{"127.0.0.1"}}))
	c.BaseURL = f.srv.URL
	shop := &models.Shop{Key: "sfy", Platform: models.PlatformShopify, ExternalID: "treue-test.myshopify.com", Secrets: models.ShopSecrets{AccessToken: f.token}}
	ctx := context.Background()
	got, err := c.ReadStock(ctx, shop, "49148385")
	if err != nil || got != (plugin.StockLevel{SKU: "BEAN-ESP-1KG", Stock: 7}) {
		t.Fatalf("ReadStock = %+v, %v", got, err)
	}
	if want := "GET /admin/api/" + APIVersion + "/inventory_levels.json?inventory_item_ids=49148385&limit=250"; f.calls[1] != want {
		t.Fatalf("levels read as %q, want %q", f.calls[1], want)
	}
	var pe *plugin.Error
	if _, err := c.ReadStock(ctx, shop, "1"); !errors.As(err, &pe) || pe.Kind != plugin.Permanent || pe.StatusCode != 404 {
		t.Fatalf("deleted item: %v", err)
	}
	if _, err := c.ReadStock(ctx, shop, "../shop"); !errors.As(err, &pe) || pe.Kind != plugin.Permanent {
		t.Fatalf("bad id: %v", err)
	}
	f.status = http.StatusServiceUnavailable
	if _, err := c.ReadStock(ctx, shop, "49148385"); !errors.As(err, &pe) || pe.Kind != plugin.Transient {
		t.Fatalf("shop down: %v", err)
	}
}
