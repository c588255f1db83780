package support

import (
	"testing"

	"github.com/treue/treue/models"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		e    models.Event
		want string
	}{
		{"Placed", models.Event{Type: models.OrderPlaced, Data: models.EventData{Order: &models.Order{ID: "1", Number: "1042", Total: "59.80", Currency: "EUR"}}},
			"Order 1042 placed, 59.80 EUR"},
		{"PlacedTest", models.Event{Type: models.OrderPlaced, Data: models.EventData{Order: &models.Order{ID: "1", Number: "1043", Total: "35.79", Currency: "EUR", Test: true}}},
			"Order 1043 placed, 35.79 EUR (test order)"},
		{"PaidTest", models.Event{Type: models.OrderPaid, Data: models.EventData{Order: &models.Order{ID: "1", Number: "1043", Test: true}}},
			"Order 1043 paid (test order)"},
		{"Refund", models.Event{Type: models.RefundIssued, Data: models.EventData{Order: &models.Order{ID: "5940139491234"}, Refund: &models.Refund{Amount: "85.00", Currency: "EUR"}}},
			"Refund for order 5940139491234: 85.00 EUR"},
		// Events stored before the processor filled the currency in.
		{"RefundWithoutCurrency", models.Event{Type: models.RefundIssued, Data: models.EventData{Order: &models.Order{ID: "5940139491234"}, Refund: &models.Refund{Amount: "85.00"}}},
			"Refund for order 5940139491234: 85.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Summarize(&tt.e); got != tt.want {
				t.Fatalf("Summarize = %q, want %q", got, tt.want)
			}
		})
	}
}
