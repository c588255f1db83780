package standard

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
)

func TestReceiver_ParseCart(t *testing.T) {
	r := New(0)
	t.Run("OK", func(t *testing.T) {
		p, err := r.Parse(signed(t, testSecret, "msg_cart", time.Now(), fixture(t, "cart.updated.json")))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Events) != 1 || p.Events[0].Type != models.CartUpdated {
			t.Fatalf("parsed %+v", p)
		}
		e := p.Events[0]
		if c := e.Data.Cart; c == nil || c.ID != "cart-7781" || len(c.Items) != 2 || c.Total != "59.80" {
			t.Fatalf("cart %+v", e.Data.Cart)
		}
		if got := e.OccurredAt(); !got.Equal(time.Date(2026, 11, 2, 9, 14, 55, 0, time.UTC)) {
			t.Fatalf("occurred at %v, want the cart's updated_at", got)
		}
	})
	for _, tt := range []struct{ name, from, to, field string }{
		{"ErrNoCartID", `"id": "cart-7781",`, ``, "data.cart.id"},
		{"ErrAnonymous", `"customer": {"id": "c-1001", "email": "anna@example.com"},`, ``, "data.customer"},
		{"ErrBadTotal", `"total": "59.80"`, `"total": "59,80"`, "data.cart.total"},
		{"ErrItemWithoutSKU", `"sku": "MUG-01", `, ``, "data.cart.items[1]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.Replace(string(fixture(t, "cart.updated.json")), tt.from, tt.to, 1)
			_, err := r.Parse(signed(t, testSecret, "m", time.Now(), []byte(body)))
			var v *models.ValidationError
			if !errors.As(err, &v) || !strings.Contains(err.Error(), tt.field+":") {
				t.Fatalf("got %v, want an error naming %s", err, tt.field)
			}
		})
	}
	t.Run("DerivedTypeIgnored", func(t *testing.T) {
		body := strings.Replace(string(fixture(t, "cart.updated.json")), `"cart.updated"`, `"cart.abandoned"`, 1)
		p, err := r.Parse(signed(t, testSecret, "m", time.Now(), []byte(body)))
		if err != nil || len(p.Events) != 0 {
			t.Fatalf("a sender's cart.abandoned: %+v %v", p, err)
		}
	})
}
