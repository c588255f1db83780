package shopify

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// TestOrderFromAPI_SameKeysAsWebhooks maps each order fixture as the REST
// API returns it (the same document) and finds every step key its webhook
// yields among the order's; a delivered fulfillment (which only
// fulfillments/update reports) is found once the order lists it so.
func TestOrderFromAPI_SameKeysAsWebhooks(t *testing.T) {
	for _, tt := range []struct{ topic, file string }{
		{"orders/create", "orders_create.json"},
		{"orders/fulfilled", "orders_fulfilled.json"},
		{"orders/updated", "orders_updated.json"},
		{"orders/cancelled", "orders_cancelled.json"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			body := mustReadFixture(t, tt.file)
			parsed, err := New().Parse(delivery(tt.topic, body))
			if err != nil {
				t.Fatal(err)
			}
			o, err := OrderFromAPI(body)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range o.Events {
				got = append(got, e.StepKey())
				if e.Data.Customer.Empty() {
					t.Errorf("%s names no customer", e.Type)
				}
			}
			for _, e := range parsed.Events {
				if !slices.Contains(got, e.StepKey()) {
					t.Errorf("webhook step %q not among the API's %q", e.StepKey(), got)
				}
			}
		})
	}
	t.Run("delivered", func(t *testing.T) {
		var o map[string]any
		if err := json.Unmarshal(mustReadFixture(t, "orders_fulfilled.json"), &o); err != nil {
			t.Fatal(err)
		}
		o["fulfillments"].([]any)[0].(map[string]any)["shipment_status"] = "delivered"
		body, _ := json.Marshal(o)
		parsed, err := New().Parse(delivery("fulfillments/update", mustReadFixture(t, "fulfillments_update_delivered.json")))
		if err != nil {
			t.Fatal(err)
		}
		api, err := OrderFromAPI(body)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range api.Events {
			got = append(got, e.StepKey())
		}
		for _, e := range parsed.Events {
			if !slices.Contains(got, e.StepKey()) {
				t.Errorf("webhook step %q not among the API's %q", e.StepKey(), got)
			}
		}
	})
}

func TestBucketWait(t *testing.T) {
	for h, want := range map[string]time.Duration{
		"":      0,
		"10/40": 0,
		"30/40": 0,
		"31/40": 5500 * time.Millisecond, // down to half at 2 calls/s
		"40/40": 10 * time.Second,
		"x/40":  0,
	} {
		if got := bucketWait(h); got != want {
			t.Errorf("bucketWait(%q) = %v, want %v", h, got, want)
		}
	}
}

func TestNextPageInfo(t *testing.T) {
	link := `<https://s.myshopify.com/admin/api/2025-07/orders.json?limit=100&page_info=prev1>; rel="previous", <https://s.myshopify.com/admin/api/2025-07/orders.json?limit=100&page_info=next2>; rel="next"`
	if got := nextPageInfo(link); got != "next2" {
		t.Fatalf("next = %q", got)
	}
	if got := nextPageInfo(`<https://s.myshopify.com/x?page_info=p>; rel="previous"`); got != "" {
		t.Fatalf("last page: next = %q", got)
	}
}
