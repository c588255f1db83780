package support

import (
	"fmt"
	"time"

	"github.com/treue/treue/models"
)

// cartLine describes a cart for support: "cart cart-1 with 3 items, 59.80 EUR".
func cartLine(c *models.Cart) string {
	if c == nil {
		return "cart"
	}
	s := "cart " + c.ID
	if n := c.Quantity(); n == 1 {
		s += " with 1 item"
	} else if n > 1 {
		s += fmt.Sprintf(" with %d items", n)
	}
	total := c.Total
	if total == "" {
		var sum int64
		for _, it := range c.Items {
			p, _ := it.UnitPrice.Cents()
			sum += p * int64(it.Quantity)
		}
		if sum > 0 {
			total = models.FormatCents(sum)
		}
	}
	if total != "" {
		s += ", " + amount(total, c.Currency)
	}
	return s
}

func cartUpdated(d *models.EventData, _ string) string { return "Updated " + cartLine(d.Cart) }

func checkoutStarted(d *models.EventData, _ string) string {
	return "Started checkout of " + cartLine(d.Cart)
}

func cartAbandoned(d *models.EventData, _ string) string { return "Abandoned " + cartLine(d.Cart) }

// cartNote is what the why of an action adds about the cart of its
// trigger: the cart and how long it had been left when it counted as
// abandoned.
func cartNote(e *models.Event) string {
	if !e.Type.IsCart() || e.Data.Cart == nil {
		return ""
	}
	s := cartLine(e.Data.Cart)
	if c := e.Data.Cart; e.Type == models.CartAbandoned && c.UpdatedAt != nil {
		s += ", no order " + formatAge(e.Timestamp.Sub(*c.UpdatedAt)) + " after its last update"
	}
	return s
}

// formatAge writes a duration the way the rules file does: 1h, 30m, 1h30m.
func formatAge(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	}
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h > 0 && m > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	case h > 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dm", m)
}
