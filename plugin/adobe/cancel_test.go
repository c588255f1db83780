package adobe

import (
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
)

// TestCanceledOrder_NotSpend: Magento's order state "canceled" is
// order.cancelled, and the cancelled order is no sale in the profile, also
// when the subscription lists only the status.
func TestCanceledOrder_NotSpend(t *testing.T) {
	parse := func(t *testing.T, bodies ...string) []models.Event {
		t.Helper()
		var events []models.Event
		for _, b := range bodies {
			p, err := New(nil).Parse(signedDelivery([]byte(b)))
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, p.Events...)
		}
		return events
	}
	placed := string(mustReadFixture(t, "order_new.json"))
	edit := func(s string, oldNew ...string) string {
		for i := 0; i+1 < len(oldNew); i += 2 {
			if !strings.Contains(s, oldNew[i]) {
				t.Fatalf("fixture has no %q", oldNew[i])
			}
			s = strings.Replace(s, oldNew[i], oldNew[i+1], 1)
		}
		return s
	}
	// Anna's order 1042, saved again once the merchant cancelled it.
	cancelled := edit(placed, `"state":"new","status":"pending"`, `"state":"canceled","status":"canceled"`,
		`"updated_at":"2026-03-02 09:14:05"`, `"updated_at":"2026-03-02 12:00:00"`)
	statusOnly := edit(placed, `"state":"new","status":"pending"`, `"status":"canceled"`)
	guest := string(mustReadFixture(t, "order_canceled_guest.json"))
	for _, c := range []struct {
		name   string
		bodies []string
	}{
		{"Guest", []string{guest}},
		{"CancelledAfterPlaced", []string{placed, cancelled}},
		{"StatusOnly", []string{statusOnly}},
	} {
		t.Run(c.name, func(t *testing.T) {
			events := parse(t, c.bodies...)
			if !containsType(events, models.OrderCancelled) {
				t.Fatalf("no order.cancelled among %d events", len(events))
			}
			p := journey.Build(events, time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC), journey.DefaultOptions)
			if p.OrderCount != 0 || p.TotalSpentCents != 0 || p.LastOrderAt != nil {
				t.Fatalf("the cancelled order counts: %d orders, %d cents", p.OrderCount, p.TotalSpentCents)
			}
		})
	}
}

func containsType(events []models.Event, typ models.EventType) bool {
	for _, e := range events {
		if e.Type == typ {
			return true
		}
	}
	return false
}
