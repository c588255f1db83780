package shopread_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeShopify is the REST Admin API's orders resource as shopify.dev
// documents it: GET /admin/api/{version}/orders.json with status,
// updated_at_min, order and limit on the first page, then only limit and
// page_info (from the Link header's rel="next"); orders/count.json; the
// X-Shopify-Shop-Api-Call-Limit header; 429 with Retry-After when the
// bucket overflows. Faults are injected by request number.
type fakeShopify struct {
	mu     sync.Mutex
	orders []map[string]any // by updated_at, id
	calls  int
	// fail answers the n-th orders.json request (1-based) with a status.
	fail   map[int]int
	token  string
	bucket int
}

func newFakeShopify(t testing.TB) (*fakeShopify, *httptest.Server) {
	f := &fakeShopify{token: "shpat_test", fail: map[int]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// order builds an order resource; delivered adds a successful fulfillment
// whose carrier reported the delivery.
func shopifyOrder(id, customer int64, created time.Time, paid, delivered bool) map[string]any {
	o := map[string]any{
		"id": id, "order_number": 1000 + id, "name": fmt.Sprintf("#%d", 1000+id),
		"email":      fmt.Sprintf("c%d@example.com", customer),
		"created_at": created.Format(time.RFC3339), "updated_at": created.Add(time.Hour).Format(time.RFC3339),
		"processed_at": created.Format(time.RFC3339),
		"currency":     "EUR", "total_price": "59.80", "financial_status": "pending", "test": false,
		"customer":     map[string]any{"id": 500000 + customer, "email": fmt.Sprintf("c%d@example.com", customer), "first_name": "Ada", "last_name": "L"},
		"line_items":   []any{map[string]any{"id": id*10 + 1, "sku": "BEAN-ESP-1KG", "product_id": 7001, "title": "Espresso", "quantity": 2, "price": "29.90"}},
		"fulfillments": []any{}, "refunds": []any{}, "discount_codes": []any{},
	}
	if paid {
		o["financial_status"] = "paid"
	}
	if delivered {
		o["fulfillments"] = []any{map[string]any{
			"id": id*10 + 5, "order_id": id, "status": "success", "shipment_status": "delivered",
			"created_at": created.Add(24 * time.Hour).Format(time.RFC3339), "updated_at": created.Add(72 * time.Hour).Format(time.RFC3339),
			"tracking_company": "DHL", "tracking_number": "JD0001",
		}}
		o["updated_at"] = created.Add(72 * time.Hour).Format(time.RFC3339)
	}
	return o
}

func (f *fakeShopify) set(orders []map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.orders = orders
	slices.SortStableFunc(f.orders, func(a, b map[string]any) int {
		if c := compareStr(a["updated_at"].(string), b["updated_at"].(string)); c != 0 {
			return c
		}
		return int(a["id"].(int64) - b["id"].(int64))
	})
}

func compareStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type pageInfo struct {
	Min    string `json:"min"`
	Offset int    `json:"offset"`
	Limit  int    `json:"limit"`
}

func (f *fakeShopify) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("X-Shopify-Access-Token") != f.token {
		http.Error(w, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`, http.StatusUnauthorized)
		return
	}
	q := r.URL.Query()
	switch r.URL.Path {
	case "/admin/api/2025-07/orders/count.json":
		n := 0
		for _, o := range f.orders {
			if o["updated_at"].(string) >= q.Get("updated_at_min") {
				n++
			}
		}
		writeJSON(w, map[string]any{"count": n})
		return
	case "/admin/api/2025-07/orders.json":
	default:
		http.NotFound(w, r)
		return
	}
	f.calls++
	if st, ok := f.fail[f.calls]; ok {
		if st == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "2.0")
			w.Header().Set("X-Shopify-Shop-Api-Call-Limit", "40/40")
		}
		w.WriteHeader(st)
		fmt.Fprint(w, `{"errors":"injected"}`)
		return
	}
	var pi pageInfo
	if raw := q.Get("page_info"); raw != "" {
		for k := range q {
			if k != "page_info" && k != "limit" {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"errors":{"page_info":["%s cannot be passed with page_info"]}}`, k)
				return
			}
		}
		b, err := base64.RawURLEncoding.DecodeString(raw)
		if err != nil || json.Unmarshal(b, &pi) != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"errors":{"page_info":["Invalid value."]}}`)
			return
		}
	} else {
		if q.Get("status") != "any" || q.Get("order") != "updated_at asc" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"errors":"unexpected query"}`)
			return
		}
		pi.Min = q.Get("updated_at_min")
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 250 {
		limit = 50
	}
	var sel []map[string]any
	for _, o := range f.orders {
		if o["updated_at"].(string) >= pi.Min {
			sel = append(sel, o)
		}
	}
	end := min(pi.Offset+limit, len(sel))
	page := sel[min(pi.Offset, len(sel)):end]
	if end < len(sel) {
		next, _ := json.Marshal(pageInfo{Min: pi.Min, Offset: end})
		u := "https://" + r.Host + r.URL.Path + "?limit=" + strconv.Itoa(limit) + "&page_info=" + base64.RawURLEncoding.EncodeToString(next)
		w.Header().Set("Link", `<`+u+`>; rel="next"`)
	}
	f.bucket = (f.bucket + 1) % 41
	w.Header().Set("X-Shopify-Shop-Api-Call-Limit", strconv.Itoa(f.bucket)+"/40")
	writeJSON(w, map[string]any{"orders": page})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}
