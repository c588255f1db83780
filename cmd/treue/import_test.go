package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models/store"
)

// fakeMagentoOrders is a Magento REST API with the sales searches the
// order reader sends, in bearer mode, and no RMA (Magento Open Source).
func fakeMagentoOrders(t *testing.T, n int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer mage-token" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"The consumer isn't authorized to access %resources.","parameters":{"resources":"Magento_Sales::sales"}}`)
			return
		}
		q := r.URL.Query()
		size, _ := strconv.Atoi(q.Get("searchCriteria[pageSize]"))
		page, _ := strconv.Atoi(q.Get("searchCriteria[currentPage]"))
		var items []map[string]any
		total := 0
		switch r.URL.Path {
		case "/rest/V1/orders":
			total = n
			for i := (page - 1) * size; i < min(page*size, n); i++ {
				items = append(items, map[string]any{
					"entity_id": 100 + i, "increment_id": fmt.Sprintf("%09d", 100+i), "state": "complete", "status": "complete",
					"customer_id": 7 + i%2, "customer_email": fmt.Sprintf("c%d@example.com", i%2), "customer_firstname": "Ada",
					"created_at": "2020-03-02 10:00:00", "updated_at": "2020-03-05 10:00:00", "grand_total": 59.8, "order_currency_code": "EUR",
					"items": []any{map[string]any{"sku": "BEAN-ESP-1KG", "product_id": 1, "qty_ordered": 2, "price": 29.9}},
				})
			}
		case "/rest/V1/invoices":
			for _, id := range strings.Split(q.Get("searchCriteria[filter_groups][0][filters][0][value]"), ",") {
				oid, _ := strconv.Atoi(id)
				items = append(items, map[string]any{"entity_id": 9000 + oid, "order_id": oid, "state": 2, "created_at": "2020-03-02 10:05:00", "grand_total": 59.8})
			}
			total = len(items)
		case "/rest/V1/shipments", "/rest/V1/creditmemos":
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"Request does not match any route."}`)
			return
		}
		if items == nil {
			items = []map[string]any{}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"items": items, "total_count": total})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestImportCommand: treue import reads a Magento shop's orders (dry run
// first), says what it did, adds nothing when run again, and refuses a
// Standard Webhooks shop and a bad date with the flag named.
func TestImportCommand(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		srv := fakeMagentoOrders(t, 250)
		e := newEnv(t, driver, fmt.Sprintf(`  - key: mage
    platform: standard
    secret: %s
    connector: magento
    url: %s/
    access_token: mage-token
dispatch:
  allow_private: true
`, acmeSecret, srv.URL))
		out, err := e.run(t, "import", "--shop", "mage", "--since", "2020-01-01", "--dry-run")
		if err != nil || !strings.Contains(out, "dry run: 250 orders with 750 journey steps since 2020-01-01 would be read; nothing was written") {
			t.Fatalf("dry run: %q %v", out, err)
		}
		out, err = e.run(t, "import", "--shop", "mage", "--since", "2020-01-01")
		want := "imported 250 orders since 2020-01-01: 750 new journey steps; shop mage now has 2 customers, 250 orders, 750 steps"
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("import: %q %v, want %q", out, err, want)
		}
		out, err = e.run(t, "import", "--shop", "mage", "--since", "2020-01-01")
		if err != nil || !strings.Contains(out, "imported 250 orders since 2020-01-01: 0 new journey steps") {
			t.Fatalf("import again: %q %v", out, err)
		}
		if _, err := e.run(t, "import", "--shop", "acme", "--since", "2020-01-01"); err == nil || !strings.Contains(err.Error(), "has no API to read orders from") {
			t.Fatalf("standard shop: %v", err)
		}
		_, err = e.run(t, "import", "--shop", "mage", "--since", "2020-13-01")
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), `--since "2020-13-01"`) {
			t.Fatalf("bad date: %v", err)
		}
		if _, err := e.run(t, "import", "--since", "2020-01-01"); !errors.As(err, &ue) {
			t.Fatalf("no --shop: %v", err)
		}
		// An import running elsewhere holds the shop's lease.
		st := e.store(t)
		shop, err := st.ShopByKey(context.Background(), "mage")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.AcquireSync(context.Background(), shop.ID, store.SyncImport, "elsewhere", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := e.run(t, "import", "--shop", "mage", "--since", "2020-01-01"); err == nil || !strings.Contains(err.Error(), "another import is running") {
			t.Fatalf("while another import runs: %v", err)
		}
	})
}

// TestImport_Progress: the import's progress names its shop and counts
// orders, as a bar while the total is known and a counter where the API
// gave none.
func TestImport_Progress(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		tty   bool
		total int
		want  string
	}{
		{false, 400, "import mage: 200 of 400 orders read\nimport mage: 400 of 400 orders read\n"},
		{false, -1, "import mage: 200 orders read\nimport mage: 400 orders read\n"},
		{true, 400, "\r[###############...............]  50% 200/400 orders\r[##############################] 100% 400/400 orders\r\033[K"},
		{true, -1, "\r200 orders\r400 orders\r\033[K"},
	} {
		var buf bytes.Buffer
		now := t0
		p := &progressBar{w: &buf, tty: tt.tty, now: func() time.Time { return now }, start: t0, label: "import mage", unit: "orders"}
		for _, step := range []struct {
			after time.Duration
			read  int
		}{{500 * time.Millisecond, 100}, {1200 * time.Millisecond, 200}, {7 * time.Second, 400}} {
			now = t0.Add(step.after)
			p.update(step.read, tt.total)
		}
		p.done()
		if buf.String() != tt.want {
			t.Errorf("tty %v, total %d: %q, want %q", tt.tty, tt.total, buf.String(), tt.want)
		}
	}
}
