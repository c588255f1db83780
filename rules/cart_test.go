package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
)

func cartOf(id string, updated time.Time, items ...models.LineItem) *models.Cart {
	return &models.Cart{ID: id, Currency: "EUR", Items: items, UpdatedAt: tp(updated)}
}

func abandonedEvent(c *models.Cart, after time.Duration) models.Event {
	return models.Event{Type: models.CartAbandoned, Timestamp: c.UpdatedAt.Add(after),
		Data: models.EventData{Customer: customer("c-1"), Cart: c}}
}

func TestEvaluate_CartReminder(t *testing.T) {
	s := mustLoad(t, examplePath)
	cart := cartOf("cart-1", at(3, 10, 0), line("BEAN-ESP-1KG", 2, "24.90"), line("MUG-01", 1, "9.90"))
	in := func(e models.Event, prof models.Profile) Input {
		return Input{Shop: ShopInfo{Location: berlin}, Event: e, EventID: 7, Profile: prof, Now: e.OccurredAt()}
	}
	reminder := func(t *testing.T, res Result) Planned {
		t.Helper()
		for _, p := range res.Planned {
			if p.RuleID == "cart-reminder" {
				return p
			}
		}
		t.Fatalf("no cart-reminder in %+v", res)
		return Planned{}
	}
	t.Run("OK", func(t *testing.T) {
		res := s.Evaluate(in(abandonedEvent(cart, time.Hour), profile()))
		p := reminder(t, res)
		if p.Status != models.ActionScheduled || !p.DueAt.Equal(at(3, 11, 0)) || p.Type != models.ActionNotify {
			t.Fatalf("planned %+v", p)
		}
		if !strings.HasSuffix(p.Key, "|cart:cart-1") {
			t.Errorf("key %q is not once per cart", p.Key)
		}
		if skus, ok := p.Params["skus"].([]string); !ok || len(skus) != 2 || p.Params["total"] != 59.7 || p.Params["flow_event"] != "treue.cart_reminder" {
			t.Errorf("params %#v", p.Params)
		}
		// A later abandonment of the same cart (updated again) is the same key.
		again := cartOf("cart-1", at(3, 12, 0), line("BEAN-ESP-1KG", 1, "24.90"))
		if q := reminder(t, s.Evaluate(in(abandonedEvent(again, time.Hour), profile()))); q.Key != p.Key {
			t.Errorf("second abandonment key %q, want %q", q.Key, p.Key)
		}
	})
	t.Run("QuietHours", func(t *testing.T) {
		late := cartOf("cart-2", at(3, 21, 30), line("MUG-01", 1, "9.90"))
		if p := reminder(t, s.Evaluate(in(abandonedEvent(late, time.Hour), profile()))); !p.DueAt.Equal(at(4, 8, 0)) {
			t.Fatalf("due %v, want the end of quiet hours", p.DueAt)
		}
	})
	t.Run("NoConsent", func(t *testing.T) {
		prof := profile()
		prof.MarketingConsent = false
		if p := reminder(t, s.Evaluate(in(abandonedEvent(cart, time.Hour), prof))); p.Status != models.ActionSuppressed || p.Reason != "no_consent" {
			t.Fatalf("planned %+v", p)
		}
	})
	t.Run("OrderedBeforeAbandonment", func(t *testing.T) {
		x := in(abandonedEvent(cart, time.Hour), profile())
		x.Cart = &CartState{Ordered: true}
		if p := reminder(t, s.Evaluate(x)); p.Status != models.ActionSuppressed || p.Reason != "cart_ordered" {
			t.Fatalf("planned %+v", p)
		}
	})
	t.Run("CancelledByOrderWithItsItems", func(t *testing.T) {
		pending := []Pending{{ID: 41, RuleID: "cart-reminder", Type: models.ActionNotify, DueAt: at(3, 11, 0), Marketing: true, TriggerEventID: 7}}
		carts := &CartState{ByEvent: map[int64]*models.Cart{7: cart}}
		order := orderEvent(models.OrderPlaced, "o-2", at(3, 10, 30), "24.90", line("BEAN-ESP-1KG", 1, "24.90"))
		x := Input{Shop: ShopInfo{Location: berlin}, Event: order, EventID: 8, Profile: profile(), Now: at(3, 10, 30), Pending: pending, Cart: carts}
		res := s.Evaluate(x)
		if len(res.Cancels) != 1 || res.Cancels[0].ActionID != 41 || res.Cancels[0].Reason != "cart_ordered" {
			t.Fatalf("cancels %+v", res.Cancels)
		}
		other := orderEvent(models.OrderPlaced, "o-3", at(3, 10, 30), "12.50", line("TEA-SENCHA-100G", 1, "12.50"))
		x.Event = other
		if res := s.Evaluate(x); len(res.Cancels) != 0 {
			t.Fatalf("an order without the cart's items cancelled %+v", res.Cancels)
		}
	})
}

func TestCartFromEvents(t *testing.T) {
	cart := cartOf("cart-1", at(3, 10, 0), line("BEAN-ESP-1KG", 2, "24.90"))
	updated := models.Event{Type: models.CartUpdated, Timestamp: at(3, 10, 0), Data: models.EventData{Customer: customer("c-1"), Cart: cart}}
	before := orderEvent(models.OrderPlaced, "o-1", at(3, 9, 0), "24.90", line("BEAN-ESP-1KG", 1, "24.90"))
	after := orderEvent(models.OrderPlaced, "o-2", at(3, 10, 20), "24.90", line("BEAN-ESP-1KG", 1, "24.90"))
	if st := CartFromEvents([]int64{1}, []models.Event{before}); st != nil {
		t.Fatalf("a journey without carts: %+v", st)
	}
	st := CartFromEvents([]int64{1, 2, 3}, []models.Event{before, updated, abandonedEvent(cart, time.Hour)})
	if st == nil || st.Ordered || st.ByEvent[2] != cart || st.ByEvent[3] == nil {
		t.Fatalf("an order before the cart: %+v", st)
	}
	if st := CartFromEvents([]int64{1, 2, 3}, []models.Event{updated, after, abandonedEvent(cart, time.Hour)}); st == nil || !st.Ordered {
		t.Fatalf("an order after the cart's update: %+v", st)
	}
}

func TestCompile_OncePerCart(t *testing.T) {
	_, err := Parse("r.yaml", []byte(`rules:
  - id: r
    on: order.placed
    limit: {once_per: cart}
    kind: service
    action: {type: notify}
`))
	if err == nil || !strings.Contains(err.Error(), "r.yaml:4:") || !strings.Contains(err.Error(), "once_per cart needs cart events") {
		t.Fatalf("got %v", err)
	}
}
