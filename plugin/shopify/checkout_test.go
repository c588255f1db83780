package shopify

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/models"
)

func TestReceiver_ParseCheckouts(t *testing.T) {
	anna := models.CustomerRef{ID: "7029431102139", Email: "anna.beispiel@example.com", FirstName: "Anna", LastName: "Beispiel"}
	cart := &models.Cart{
		ID: "5f7e1c3b9a2d4e6f8a0b1c2d3e4f5a6b", Currency: "EUR", Total: "59.80", UpdatedAt: tp("2026-03-01T17:07:45Z"),
		Items: []models.LineItem{
			{SKU: "ESP-500", ProductID: "9782123692332", Name: "Espresso Bohnen 500 g", Quantity: 2, UnitPrice: "14.95"},
			{SKU: "FLT-500", ProductID: "9782123692399", Name: "Filterkaffee 500 g", Quantity: 2, UnitPrice: "14.95"},
		},
	}
	body := mustReadFixture(t, "checkouts_update.json")
	for _, tt := range []struct {
		topic string
		typ   models.EventType
	}{{"checkouts/update", models.CartUpdated}, {"checkouts/create", models.CheckoutStarted}} {
		t.Run(tt.topic, func(t *testing.T) {
			got, err := New().Parse(delivery(tt.topic, body))
			if err != nil {
				t.Fatal(err)
			}
			want := []models.Event{{Type: tt.typ, Timestamp: ts("2026-03-01T17:07:45Z"), Data: models.EventData{Customer: anna, Cart: cart}}}
			if diff := cmp.Diff(want, got.Events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("CompletedIgnored", func(t *testing.T) {
		b := strings.Replace(string(body), `"completed_at":null`, `"completed_at":"2026-03-01T18:09:00+01:00"`, 1)
		got, err := New().Parse(delivery("checkouts/update", []byte(b)))
		if err != nil || len(got.Events) != 0 {
			t.Fatalf("completed checkout: %v %v", got.Events, err)
		}
	})
	t.Run("AnonymousIgnored", func(t *testing.T) {
		b := strings.Replace(string(body), `"email":"anna.beispiel@example.com","gateway"`, `"email":"","gateway"`, 1)
		b = b[:strings.Index(b, `,"customer":{`)] + `,"customer":null}`
		got, err := New().Parse(delivery("checkouts/create", []byte(b)))
		if err != nil || len(got.Events) != 0 {
			t.Fatalf("anonymous checkout: %v %v", got.Events, err)
		}
	})
	t.Run("ErrBadTime", func(t *testing.T) {
		b := strings.Replace(string(body), `"updated_at":"2026-03-01T18:07:45+01:00","landing_site"`, `"updated_at":"yesterday","landing_site"`, 1)
		_, err := New().Parse(delivery("checkouts/update", []byte(b)))
		var v *models.ValidationError
		if !errors.As(err, &v) || v.Fields[0].Field != "updated_at" {
			t.Fatalf("bad updated_at: %v", err)
		}
	})
}
