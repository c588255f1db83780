package models_test

import (
	"testing"

	"github.com/treue/treue/models"
)

func TestFieldPath(t *testing.T) {
	for in, want := range map[string]string{
		"data.order.items.0.quantity":       "data.order.items[0].quantity",
		"data.payload.order.lineItems.12.x": "data.payload.order.lineItems[12].x",
		"type":                              "type",
		"0":                                 "[0]",
		"data.v2.id":                        "data.v2.id",
		"":                                  "",
	} {
		if got := models.FieldPath(in); got != want {
			t.Errorf("FieldPath(%q) = %q, want %q", in, got, want)
		}
	}
}
