package magento_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/models"
)

// TestEventMapper_QuoteContract checks the module's cart.updated (a quote
// save) the way TestEventMapper_Contract checks the sales events: it decodes
// into models.Event field for field and passes Treue's validation; guests'
// carts without an e-mail, converted and empty quotes send nothing.
func TestEventMapper_QuoteContract(t *testing.T) {
	out := runPHP(t, filepath.Join("tests", "map_quote_fixture.php"))
	var got []models.Event
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var e models.Event
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("%s: %v", sc.Text(), err)
		}
		if err := e.Validate(); err != nil {
			t.Errorf("%s: %v", e.Type, err)
		}
		got = append(got, e)
	}
	at := time.Date(2026, 3, 1, 17, 7, 45, 0, time.UTC)
	mug := models.LineItem{SKU: "MUG-BLUE", ProductID: "31", Name: "Tasse", Quantity: 1, UnitPrice: "29.90"}
	cart := func(items ...models.LineItem) *models.Cart {
		return &models.Cart{ID: "3301", Items: items, Total: "59.80", Currency: "EUR", UpdatedAt: &at}
	}
	want := []models.Event{
		{Type: models.CartUpdated, Timestamp: at, Data: models.EventData{
			Customer: models.CustomerRef{ID: "77", Email: "anna.beispiel@example.com", FirstName: "Anna", LastName: "Beispiel"},
			Cart:     cart(models.LineItem{SKU: "ESP-500", ProductID: "14", Name: "Espresso Bohnen 500 g", Quantity: 2, UnitPrice: "14.95"}, mug)}},
		{Type: models.CartUpdated, Timestamp: at, Data: models.EventData{
			Customer: models.CustomerRef{Email: "jon@example.com"}, Cart: cart(mug)}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
}
