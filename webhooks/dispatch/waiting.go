package dispatch

import (
	"fmt"
	"time"

	"github.com/treue/treue/models"
)

// waitLabel formats a moment for a support person reading a timeline.
func waitLabel(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// Off answers for a process that does not dispatch.
type Off struct{}

// Waiting implements the console's question "why has this not gone out?".
func (Off) Waiting(_ *models.Shop, a *models.Action) string {
	if !a.Status.Pending() {
		return ""
	}
	return "dispatch is off in this Treue (dispatch.enabled: false): actions are planned and kept, but none is sent"
}

// Waiting says why an unsent action of shop has not gone out yet, for
// support staff reading its timeline; "" when nothing holds it back. The
// breaker's state is this process's: another replica may know better.
func (d *Dispatcher) Waiting(shop *models.Shop, a *models.Action) string {
	if !a.Status.Pending() {
		return ""
	}
	if err := d.setup(); err != nil {
		return "dispatch is not running: " + err.Error()
	}
	if c, why := d.connector(shop, a); c == nil {
		return why + "; it ends as dead when due"
	}
	if a.Type == models.ActionNotify || a.Params["channel"] == "notify" || shop.ConnectorName() == models.ConnectorNotify {
		if shop.Secrets.NotifyURL == "" && a.Params["url"] == nil {
			return "the shop has no notify_url (and the action no params.url): it ends as dead when due"
		}
	}
	now := d.Now()
	loc := d.zones.Of(shop)
	if until, held := d.breakers.heldUntil(shop.ID, now); held {
		return fmt.Sprintf("the shop's API is failing: its circuit is open until %s, then one trial call decides", waitLabel(until, loc))
	}
	if a.Status == models.ActionRetrying {
		why := fmt.Sprintf("attempt %d failed", a.Attempts)
		if a.Reason != "" {
			why += " (" + a.Reason + ")"
		}
		return why + "; next attempt " + waitLabel(a.DueAt, loc)
	}
	if a.DueAt.After(now) {
		return "due " + waitLabel(a.DueAt, loc)
	}
	if now.Sub(a.DueAt) > 5*time.Minute+d.Poll {
		return "overdue since " + waitLabel(a.DueAt, loc) + ": is the dispatcher keeping up? (treue_dispatch metrics)"
	}
	return "due now: the dispatcher sends it within seconds"
}
