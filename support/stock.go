package support

import (
	"fmt"
	"time"

	"github.com/treue/treue/models"
)

func stockSubscribed(d *models.EventData, _ string) string {
	if d.Subscription == nil {
		return "Subscribed to a back-in-stock notice"
	}
	return "Subscribed to a back-in-stock notice for " + d.Subscription.SKU
}

func stockUnsubscribed(d *models.EventData, _ string) string {
	if d.Subscription == nil {
		return "Ended a back-in-stock notice"
	}
	return "Ended the back-in-stock notice for " + d.Subscription.SKU
}

func stockAvailable(d *models.EventData, _ string) string {
	if d.Restock == nil {
		return "Back in stock"
	}
	return "Back in stock: " + d.Restock.SKU + " (" + queue(d.Restock) + ")"
}

func stockSoldOut(d *models.EventData, _ string) string {
	if d.Restock == nil {
		return "Sold out again"
	}
	return "Sold out again before the notice's slot: " + d.Restock.SKU + " (waits for the next restock)"
}

// queue is a notice's place in its restock's queue and the pacing that set
// its slot.
func queue(r *models.Restock) string {
	return fmt.Sprintf("subscriber %d of %d, slot %d of %d at %d/hour", r.Rank, r.Subscribers, r.Slot, r.Slots, r.PerHour)
}

// restockWhy says, for an action that answered a back-in-stock notice, which
// restock it was and why the action is due when it is; "" for any other event.
func restockWhy(e *models.Event) string {
	r := e.Data.Restock
	if e.Type != models.StockAvailable || r == nil {
		return ""
	}
	return fmt.Sprintf("%s back in stock at %s; subscribed %s, %s, due from %s", r.SKU, r.RestockAt.UTC().Format(time.RFC3339),
		r.SubscribedAt.UTC().Format(time.RFC3339), queue(r), r.SlotAt.UTC().Format(time.RFC3339))
}
