package dispatch

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/plugin"
)

type okConnector struct{}

func (okConnector) Execute(context.Context, plugin.Job) (plugin.Result, error) {
	return plugin.Result{}, nil
}

// TestWaiting: each reason an unsent action waits is said, and the
// breaker's half-open trial is not used up by asking.
func TestWaiting(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	d := &Dispatcher{Store: &store.Store{}, Connectors: map[string]plugin.Connector{models.ConnectorShopware: okConnector{}}, Notify: okConnector{},
		Now: func() time.Time { return t0 }, Breaker: BreakerConfig{Failures: 1, Cooldown: time.Minute}}
	sw := &models.Shop{ID: 1, Key: "sw", Platform: models.PlatformShopware, Timezone: "Europe/Berlin"}
	std := &models.Shop{ID: 2, Key: "std", Platform: models.PlatformStandard}
	act := func(status models.ActionStatus, due time.Time) *models.Action {
		return &models.Action{Type: models.ActionPromoCode, Status: status, DueAt: due, Attempts: 2, Reason: "HTTP 503"}
	}
	cases := []struct {
		name string
		shop *models.Shop
		a    *models.Action
		want string
	}{
		{"Sent", sw, act(models.ActionSent, t0), ""},
		{"Later", sw, act(models.ActionScheduled, t0.Add(3*time.Hour)), "due 2026-03-02 16:00 CET"},
		{"Now", sw, act(models.ActionScheduled, t0.Add(-time.Second)), "due now"},
		{"Overdue", sw, act(models.ActionScheduled, t0.Add(-time.Hour)), "overdue since"},
		{"Retrying", sw, act(models.ActionRetrying, t0.Add(time.Minute)), "attempt 2 failed (HTTP 503); next attempt 2026-03-02 13:01 CET"},
		{"NoNotifyURL", std, act(models.ActionScheduled, t0), "no notify_url"},
	}
	for _, c := range cases {
		if got := d.Waiting(c.shop, c.a); (c.want == "" && got != "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	d.Notify = nil
	if got := d.Waiting(std, act(models.ActionScheduled, t0)); !strings.Contains(got, "notify is not configured") {
		t.Errorf("no notifier: %q", got)
	}

	d.breakers.report(sw.ID, t0, false, breakerFailure)
	if got := d.Waiting(sw, act(models.ActionScheduled, t0)); !strings.Contains(got, "circuit is open until 2026-03-02 13:01 CET") {
		t.Errorf("open breaker: %q", got)
	}
	// Half-open: asking must not take the trial call away from the dispatcher.
	later := t0.Add(2 * time.Minute)
	d.Now = func() time.Time { return later }
	d.Waiting(sw, act(models.ActionScheduled, later))
	if ok, trial, _ := d.breakers.allow(sw.ID, later); !ok || !trial {
		t.Fatalf("the trial call was used up by Waiting: ok=%v trial=%v", ok, trial)
	}
	if got := (Off{}).Waiting(sw, act(models.ActionScheduled, t0)); !strings.Contains(got, "dispatch.enabled: false") {
		t.Errorf("dispatch off: %q", got)
	}
}
