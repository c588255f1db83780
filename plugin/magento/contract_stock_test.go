package magento_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/standard"
)

// TestEventMapper_StockContract runs the module's back-in-stock mapping over
// stand-in alerts and stock items: each line must be a valid canonical event
// that Treue's Standard Webhooks receiver accepts, and say what it should.
func TestEventMapper_StockContract(t *testing.T) {
	out := runPHP(t, filepath.Join("tests", "stock_fixture.php"))
	var got []models.Event
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var e models.Event
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("%s: %v", sc.Text(), err)
		}
		parsed, err := standard.New(time.Minute).Parse(&plugin.Delivery{Header: http.Header{"Webhook-Id": {"m-1"}}, Body: bytes.Clone(sc.Bytes())})
		if err != nil || len(parsed.Events) != 1 {
			t.Errorf("%s: the receiver gave %v, %v", e.Type, parsed.Events, err)
		}
		got = append(got, e)
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ptr := func(s string) *time.Time { v := at(s); return &v }
	anna := models.CustomerRef{ID: "77", Email: "anna.beispiel@example.com", FirstName: "Anna", LastName: "Beispiel"}
	want := []models.Event{
		{Type: models.StockSubscribed, Timestamp: at("2026-03-04T08:00:00Z"), Data: models.EventData{Customer: anna,
			Subscription: &models.StockSubscription{SKU: "ESP-500", At: ptr("2026-03-04T08:00:00Z")}}},
		{Type: models.ProductStockChanged, Timestamp: at("2026-03-04T08:00:00Z"), Data: models.EventData{
			Product: &models.ProductStock{SKU: "ESP-500", Stock: 5, At: ptr("2026-03-04T08:00:00Z")}}},
		{Type: models.ProductStockChanged, Timestamp: at("2026-03-04T08:00:00Z"), Data: models.EventData{
			Product: &models.ProductStock{SKU: "ESP-500", Stock: 0, At: ptr("2026-03-04T08:00:00Z")}}},
		{Type: models.StockUnsubscribed, Timestamp: at("2026-03-04T08:00:00Z"), Data: models.EventData{Customer: anna,
			Subscription: &models.StockSubscription{SKU: "ESP-500", At: ptr("2026-03-04T08:00:00Z")}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
}
