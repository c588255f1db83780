package shopware

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

// fixtureOrder is the order of a webhook fixture, as the Admin API's
// search returns the entity (the same encoding, with its associations).
func fixtureOrder(t *testing.T, name string) map[string]any {
	t.Helper()
	var env struct {
		Data struct {
			Payload struct {
				Order map[string]any `json:"order"`
			} `json:"payload"`
		} `json:"data"`
	}
	if err := json.Unmarshal(mustFixture(t, name), &env); err != nil {
		t.Fatal(err)
	}
	return env.Data.Payload.Order
}

func readerShop(f *fakeShop) *models.Shop {
	return &models.Shop{Key: "sw-test", Platform: models.PlatformShopware, URL: f.srv.URL,
		Secrets: models.ShopSecrets{APIKey: f.clientID, APISecret: f.secret}}
}

func stepKeys(events []models.Event) []string {
	var keys []string
	for _, e := range events {
		keys = append(keys, e.StepKey())
	}
	slices.Sort(keys)
	return keys
}

// TestReadOrders_SameKeysAsWebhooks reads each webhook fixture's order from
// the fake Admin API and finds every step key its webhook yields among the
// order's steps.
func TestReadOrders_SameKeysAsWebhooks(t *testing.T) {
	for _, name := range []string{"order_placed.json", "order_paid.json", "order_shipped.json", "order_returned_partially.json",
		"order_refunded.json", "order_completed.json", "order_cancelled.json"} {
		t.Run(name, func(t *testing.T) {
			parsed, err := New(time.Minute).Parse(signedDelivery(mustFixture(t, name), "s"))
			if err != nil {
				t.Fatal(err)
			}
			f := newFakeShop(t)
			f.orders = []map[string]any{fixtureOrder(t, name)}
			page, err := testConnector(5*time.Second).ReadOrders(context.Background(), readerShop(f), plugin.OrderQuery{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Orders) != 1 || page.Next != "" || page.Total != 1 {
				t.Fatalf("page %+v, want the one order", page)
			}
			got := stepKeys(page.Orders[0].Events)
			for _, k := range stepKeys(parsed.Events) {
				if !slices.Contains(got, k) {
					t.Errorf("webhook step %q not among the API's %q", k, got)
				}
			}
			for _, e := range page.Orders[0].Events {
				if e.Data.Customer.Empty() {
					t.Errorf("%s names no customer", e.Type)
				}
			}
		})
	}
}

// TestReadOrders_Pages reads 250 orders in pages of 100 and checks the
// criteria Shopware gets; a 429 comes back as a transient error with the
// shop's Retry-After.
func TestReadOrders_Pages(t *testing.T) {
	f := newFakeShop(t)
	base := fixtureOrder(t, "order_shipped.json")
	for i := range 250 {
		o := map[string]any{}
		for k, v := range base {
			o[k] = v
		}
		o["id"] = fmt.Sprintf("%032x", i+1)
		o["orderNumber"] = fmt.Sprint(20000 + i)
		o["createdAt"] = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour).Format("2006-01-02T15:04:05.000+00:00")
		f.orders = append(f.orders, o)
	}
	c := testConnector(5 * time.Second)
	ctx := context.Background()
	q := plugin.OrderQuery{From: time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC), PageSize: 100}
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("no end of pages")
		}
		page, err := c.ReadOrders(ctx, readerShop(f), q)
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 250 {
			t.Fatalf("total %d, want 250", page.Total)
		}
		for _, o := range page.Orders {
			if seen[o.ID] {
				t.Fatalf("order %s twice", o.ID)
			}
			seen[o.ID] = true
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	if len(seen) != 250 {
		t.Fatalf("%d orders read, want 250", len(seen))
	}
	crit := f.searches[0]
	assoc, _ := crit["associations"].(map[string]any)
	for _, a := range []string{"lineItems", "transactions", "deliveries", "orderCustomer", "currency", "stateMachineState"} {
		if _, ok := assoc[a]; !ok {
			t.Errorf("association %s not asked for: %v", a, assoc)
		}
	}
	f.fault = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/search/order" {
			return false
		}
		w.Header().Set("Retry-After", "7")
		swError(w, http.StatusTooManyRequests, "FRAMEWORK__TOO_MANY_REQUESTS", "slow down")
		return true
	}
	_, err := c.ReadOrders(ctx, readerShop(f), plugin.OrderQuery{From: q.From})
	var pe *plugin.Error
	if !errors.As(err, &pe) || pe.Kind != plugin.Transient || pe.RetryAfter != 7*time.Second {
		t.Fatalf("429: got %v, want a transient error retrying after 7s", err)
	}
}
