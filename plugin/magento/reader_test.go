package magento

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/adobe"
)

// adobeEntity reads data.value of a plugin/adobe fixture: the entity as
// the observer event carries it, field for field what the REST API lists.
func adobeEntity(t *testing.T, name string) (map[string]any, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "adobe", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Data struct {
			Value map[string]any `json:"value"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	return env.Data.Value, b
}

func readerShop(f *fakeMagento) *models.Shop {
	return &models.Shop{Key: "mage", Platform: models.PlatformAdobe, URL: f.srv.URL + "/",
		Secrets: models.ShopSecrets{APIKey: f.cred.ConsumerKey, APISecret: f.cred.ConsumerSecret, AccessToken: f.cred.Token, TokenSecret: f.cred.TokenSecret}}
}

// TestReadOrders_SameKeysAsEvents serves the entities of the Adobe I/O
// fixtures of order 1042 (order, invoice, shipment, credit memo, RMA) from
// the fake REST API and finds each event's step keys among the order's.
func TestReadOrders_SameKeysAsEvents(t *testing.T) {
	f := newFakeMagento(t, testNow)
	f.sales = map[string][]map[string]any{}
	var want []string
	for _, fx := range []struct{ name, path string }{
		{"order_complete.json", "orders"}, {"invoice_paid.json", "invoices"}, {"shipment.json", "shipments"},
		{"creditmemo.json", "creditmemos"}, {"rma_processed.json", "returns"},
	} {
		v, raw := adobeEntity(t, fx.name)
		f.sales[fx.path] = append(f.sales[fx.path], v)
		parsed, err := adobe.New(nil).Parse(&plugin.Delivery{Body: raw})
		if err != nil {
			t.Fatalf("%s: %v", fx.name, err)
		}
		for _, e := range parsed.Events {
			want = append(want, e.StepKey())
		}
	}
	page, err := testConnector(5*time.Second).ReadOrders(context.Background(), readerShop(f), plugin.OrderQuery{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Orders) != 1 || page.Next != "" || page.Total != 1 {
		t.Fatalf("page %+v, want order 1042 alone", page)
	}
	var got []string
	for _, e := range page.Orders[0].Events {
		got = append(got, e.StepKey())
		if e.Data.Customer.Empty() {
			t.Errorf("%s names no customer", e.Type)
		}
	}
	slices.Sort(got)
	for _, k := range want {
		if !slices.Contains(got, k) {
			t.Errorf("event step %q not among the API's %q", k, got)
		}
	}
}

// TestReadOrders_PagesOpenSource reads 230 orders in pages of 100 from a
// shop without RMA (404 on /V1/returns), stopping by total_count although
// Magento answers a page past the end with the last page again.
func TestReadOrders_PagesOpenSource(t *testing.T) {
	f := newFakeMagento(t, testNow)
	base, _ := adobeEntity(t, "order_new.json")
	f.sales = map[string][]map[string]any{"invoices": {}, "shipments": {}, "creditmemos": {}}
	for i := range 230 {
		o := map[string]any{}
		for k, v := range base {
			o[k] = v
		}
		o["entity_id"] = fmt.Sprint(5000 + i)
		o["increment_id"] = fmt.Sprintf("%09d", 5000+i)
		f.sales["orders"] = append(f.sales["orders"], o)
	}
	c := testConnector(5 * time.Second)
	q := plugin.OrderQuery{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), PageSize: 100}
	seen := map[string]bool{}
	for pages := 1; ; pages++ {
		page, err := c.ReadOrders(context.Background(), readerShop(f), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Orders {
			if seen[o.ID] {
				t.Fatalf("order %s twice", o.ID)
			}
			seen[o.ID] = true
		}
		if page.Next == "" {
			if pages != 3 {
				t.Fatalf("%d pages, want 3", pages)
			}
			break
		}
		q.Cursor = page.Next
	}
	if len(seen) != 230 {
		t.Fatalf("%d orders, want 230", len(seen))
	}
	// A cursor past the end (the orders shrank meanwhile) reads nothing.
	page, err := c.ReadOrders(context.Background(), readerShop(f), plugin.OrderQuery{From: q.From, PageSize: 100, Cursor: "4"})
	if err != nil || len(page.Orders) != 0 || page.Next != "" {
		t.Fatalf("past the end: %+v, %v", page, err)
	}
}
