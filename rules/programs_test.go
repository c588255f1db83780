package rules

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/models"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json from the current results")

// programCase is one journey moment evaluated against examples/rules.yaml;
// its result is compared with testdata/golden/<name>.json.
type programCase struct {
	name string
	scan bool
	in   func() Input
}

func programCases() []programCase {
	paid := func() Input {
		return Input{
			Event:   orderEvent(models.OrderPaid, "o-1001", at(2, 9, 16), "101.30", order1Items()...),
			EventID: 11, Profile: profile(), Order: order1State(), Now: at(2, 9, 17),
		}
	}
	delivered := func(positive int) Input {
		p := profile()
		p.PositiveOrderCount = positive
		st := order1State()
		st.ShippedAt, st.PromisedDeliveryAt = at(3, 14, 0), at(6, 18, 0)
		return Input{
			Event: shipmentEvent(models.ShipmentDelivered, "o-1001",
				models.Shipment{ID: "sh-1", DeliveredAt: tp(at(5, 11, 30))}, at(5, 11, 31)),
			EventID: 13, Profile: p, Order: st, Now: at(5, 11, 32),
		}
	}
	return []programCase{
		// Points per euro, with tiers.
		{name: "points_award", in: paid},
		{name: "points_tier_upgrade", in: func() Input {
			in := paid()
			in.Profile.PointsBalance = 450 // + 101 → silver
			return in
		}},
		{name: "points_revoke_returned_line", in: func() Input {
			return Input{
				Event: returnEvent(models.ReturnReceived, "o-1001", "r-1", at(12, 10, 0),
					models.LineItem{SKU: "TEA-SENCHA-100G", Quantity: 1}),
				EventID: 21, Profile: profile(), Order: order1State(), Now: at(12, 10, 1),
			}
		}},
		// Reorder reminders from the consumption cycle; the paid event also awards points.
		{name: "reorder_reminder_scheduled", in: paid},
		{name: "reorder_reminder_not_for_older_order", in: func() Input {
			in := paid()
			in.Profile.LastOrderAt = tp(at(20, 8, 0)) // a newer order exists
			return in
		}},
		{name: "reorder_reminder_cancelled_by_reorder", in: func() Input {
			p := profile()
			p.OrderCount, p.LastOrderAt = 2, tp(at(25, 19, 0))
			return Input{
				Event:   orderEvent(models.OrderPlaced, "o-1002", at(25, 19, 0), "24.90", line("BEAN-ESP-1KG", 1, "24.90")),
				EventID: 31, Profile: p, Now: at(25, 19, 1),
				Pending: []Pending{
					{ID: 501, RuleID: "reorder-reminder", Type: models.ActionReorderReminder, DueAt: at(27, 9, 16), SKU: "BEAN-ESP-1KG", OrderRef: "o-1001", Category: "beans", Marketing: true},
					{ID: 502, RuleID: "reorder-reminder", Type: models.ActionReorderReminder, DueAt: at(22, 9, 16), SKU: "TEA-SENCHA-100G", OrderRef: "o-1001", Category: "tea", Marketing: true},
				},
			}
		}},
		{name: "reorder_reminder_cancelled_by_return", in: func() Input {
			return Input{
				Event: returnEvent(models.ReturnRequested, "o-1001", "r-1", at(6, 10, 0),
					models.LineItem{SKU: "TEA-SENCHA-100G", Quantity: 1}),
				EventID: 20, Profile: profile(), Order: order1State(), Now: at(6, 10, 1),
				Pending: []Pending{
					{ID: 501, RuleID: "reorder-reminder", Type: models.ActionReorderReminder, DueAt: at(27, 9, 16), SKU: "BEAN-ESP-1KG", OrderRef: "o-1001", Category: "beans", Marketing: true},
					{ID: 502, RuleID: "reorder-reminder", Type: models.ActionReorderReminder, DueAt: at(22, 9, 16), SKU: "TEA-SENCHA-100G", OrderRef: "o-1001", Category: "tea", Marketing: true},
				},
			}
		}},
		// Second positive purchase: a sample into the next parcel (plus the review request).
		{name: "sample_on_second_positive", in: func() Input { return delivered(2) }},
		{name: "no_sample_on_first_positive", in: func() Input { return delivered(1) }},
		// Lateness.
		{name: "apology_late_delivery", in: func() Input {
			in := delivered(1)
			in.Order.PromisedDeliveryAt = at(4, 18, 0) // promised the 4th, delivered the 5th
			return in
		}},
		{name: "apology_slow_handling", in: func() Input {
			st := order1State()
			return Input{
				Event: shipmentEvent(models.ShipmentShipped, "o-1001",
					models.Shipment{ID: "sh-1", ShippedAt: tp(at(5, 16, 0))}, at(5, 16, 1)),
				EventID: 12, Profile: profile(), Order: st, Now: at(5, 16, 2),
			}
		}},
		{name: "no_apology_in_time", in: func() Input {
			st := order1State()
			return Input{
				Event: shipmentEvent(models.ShipmentShipped, "o-1001",
					models.Shipment{ID: "sh-1", ShippedAt: tp(at(3, 14, 0))}, at(3, 14, 1)),
				EventID: 12, Profile: profile(), Order: st, Now: at(3, 14, 2),
			}
		}},
		// Service recovery after a return, a day later (and cancels the review request).
		{name: "return_recovery", in: func() Input {
			return Input{
				Event:   returnEvent(models.ReturnRequested, "o-1001", "r-1", at(8, 20, 30), models.LineItem{SKU: "TEA-SENCHA-100G", Quantity: 1}),
				EventID: 20, Profile: profile(), Order: order1State(), Now: at(8, 20, 31),
				Pending: []Pending{{ID: 601, RuleID: "review-request", Type: models.ActionReviewRequest, DueAt: at(12, 11, 31), OrderRef: "o-1001", Marketing: true}},
			}
		}},
		// Most shops report no return.requested: recovery on the goods or
		// the money coming back, whichever comes first.
		{name: "return_recovery_on_return_received", in: func() Input {
			return Input{
				Event:   returnEvent(models.ReturnReceived, "o-1001", "r-1", at(9, 10, 0), models.LineItem{SKU: "TEA-SENCHA-100G", Quantity: 1}),
				EventID: 21, Profile: profile(), Order: order1State(), Now: at(9, 10, 1),
			}
		}},
		{name: "return_recovery_on_refund", in: func() Input {
			return Input{
				Event:   refundEvent("o-1001", "rf-1", at(9, 12, 0), "12.50", models.LineItem{SKU: "TEA-SENCHA-100G", Quantity: 1}),
				EventID: 22, Profile: profile(), Order: order1State(), Now: at(9, 12, 1),
			}
		}},
		{name: "complaint_notifies_support", in: func() Input {
			return Input{
				Event: models.Event{Type: models.ComplaintOpened, Timestamp: at(7, 23, 10), Data: models.EventData{
					Customer: customer("c-1"), Order: &models.Order{ID: "o-1001"}, Complaint: &models.Complaint{ID: "cp-1", Reason: "broken_grinder"},
				}},
				EventID: 40, Profile: profile(), Order: order1State(), Now: at(7, 23, 11),
				Pending: []Pending{{ID: 601, RuleID: "review-request", Type: models.ActionReviewRequest, DueAt: at(12, 11, 31), OrderRef: "o-1001", Marketing: true}},
			}
		}},
		// Win-back and birthday come from the daily scan.
		{name: "win_back_after_90_days", scan: true, in: func() Input {
			p := profile()
			p.LastOrderAt = tp(at(2, 9, 15).AddDate(0, 0, -95))
			return Input{Profile: p, Now: at(2, 6, 0)}
		}},
		{name: "no_win_back_when_active", scan: true, in: func() Input {
			return Input{Profile: profile(), Now: at(30, 6, 0)}
		}},
		{name: "birthday_code", scan: true, in: func() Input {
			return Input{Profile: profile(), Now: at(20, 3, 0)}
		}},
		{name: "birthday_code_day_before", scan: true, in: func() Input {
			return Input{Profile: profile(), Now: at(19, 23, 30)}
		}},
		// Referral: the referred customer's first order is delivered.
		{name: "referral_reward", in: func() Input {
			in := delivered(1)
			in.Profile.ReferredBy = "BEN42"
			return in
		}},
		// Guardrails.
		{name: "guard_no_consent", in: func() Input {
			in := paid()
			in.Profile.MarketingConsent = false
			return in
		}},
		{name: "guard_category_opt_out", in: func() Input {
			in := paid()
			in.Profile.OptedOutCategories = []string{"tea"}
			return in
		}},
		{name: "guard_frequency_cap", in: func() Input {
			in := paid()
			// Two marketing actions already around the second reminder's due time.
			in.Recent = []time.Time{at(20, 10, 0), at(21, 10, 0)}
			return in
		}},
		{name: "guard_holdout", in: func() Input {
			in := paid()
			in.Profile.Holdout = true
			return in
		}},
		{name: "guard_quiet_hours", in: func() Input {
			in := delivered(2)
			in.Event.Data.Shipment.DeliveredAt = tp(at(5, 22, 40))
			in.Event.Timestamp, in.Now = at(5, 22, 41), at(5, 22, 42)
			return in
		}},
		{name: "consent_revoked_cancels_marketing", in: func() Input {
			return Input{
				Event: models.Event{Type: models.ConsentRevoked, Timestamp: at(9, 12, 0), Data: models.EventData{
					Customer: customer("c-1"), Consent: &models.Consent{Channel: "email"},
				}},
				EventID: 50, Profile: profile(), Now: at(9, 12, 1),
				Pending: []Pending{
					{ID: 501, RuleID: "reorder-reminder", Type: models.ActionReorderReminder, DueAt: at(27, 9, 16), SKU: "BEAN-ESP-1KG", OrderRef: "o-1001", Category: "beans", Marketing: true},
					{ID: 700, RuleID: "return-recovery", Type: models.ActionPromoCode, DueAt: at(10, 8, 0), OrderRef: "o-1001"},
				},
			}
		}},
		{name: "opt_out_cancels_category", in: func() Input {
			return Input{
				Event: models.Event{Type: models.CategoryOptedOut, Timestamp: at(9, 12, 0), Data: models.EventData{
					Customer: customer("c-1"), OptOut: &models.OptOut{Category: "tea"},
				}},
				EventID: 51, Profile: profile(), Now: at(9, 12, 1),
				Pending: []Pending{
					{ID: 501, RuleID: "reorder-reminder", Type: models.ActionReorderReminder, DueAt: at(27, 9, 16), SKU: "BEAN-ESP-1KG", OrderRef: "o-1001", Category: "beans", Marketing: true},
					{ID: 502, RuleID: "reorder-reminder", Type: models.ActionReorderReminder, DueAt: at(22, 9, 16), SKU: "TEA-SENCHA-100G", OrderRef: "o-1001", Category: "tea", Marketing: true},
				},
			}
		}},
	}
}

// TestExample_ReturnRecoveryOncePerOrder: the example's return-recovery
// plans on each of the three return and refund events alone, and under one
// idempotency key per order, so whichever is stored first is the only one
// (the store's UNIQUE key turns the others into no-ops).
func TestExample_ReturnRecoveryOncePerOrder(t *testing.T) {
	s := mustLoad(t, examplePath)
	tea := models.LineItem{SKU: "TEA-SENCHA-100G", Quantity: 1}
	events := map[string]func(order string) models.Event{
		"return.requested": func(o string) models.Event { return returnEvent(models.ReturnRequested, o, "r-1", at(8, 20, 30), tea) },
		"return.received":  func(o string) models.Event { return returnEvent(models.ReturnReceived, o, "r-1", at(9, 10, 0), tea) },
		"refund.issued":    func(o string) models.Event { return refundEvent(o, "rf-1", at(9, 12, 0), "12.50", tea) },
	}
	keys := map[string]string{} // order → key
	for name, event := range events {
		for _, order := range []string{"o-1001", "o-1002"} {
			st := order1State()
			st.ID = order
			ev := event(order)
			res := s.Evaluate(Input{Event: ev, EventID: 20, Profile: profile(), Order: st, Now: ev.Timestamp.Add(time.Minute)})
			var planned []Planned
			for _, p := range res.Planned {
				if p.RuleID == "return-recovery" {
					planned = append(planned, p)
				}
			}
			if len(planned) != 1 || planned[0].Status != models.ActionScheduled || planned[0].OrderRef != order {
				t.Fatalf("%s for %s planned %+v, want one scheduled return-recovery for the order", name, order, planned)
			}
			if want := ev.Timestamp.Add(24 * time.Hour); !planned[0].DueAt.Equal(want) {
				t.Errorf("%s for %s: due %v, want a day later (%v)", name, order, planned[0].DueAt, want)
			}
			if k, ok := keys[order]; ok && k != planned[0].Key {
				t.Errorf("%s for %s: key %q, another trigger of the same order had %q", name, order, planned[0].Key, k)
			}
			keys[order] = planned[0].Key
		}
	}
	if keys["o-1001"] == keys["o-1002"] {
		t.Fatalf("two orders share the key %q", keys["o-1001"])
	}
}

func TestExamplePrograms(t *testing.T) {
	s := mustLoad(t, examplePath)
	for _, tc := range programCases() {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in()
			var res Result
			if tc.scan {
				res = s.Scan(in)
			} else {
				res = s.Evaluate(in)
			}
			for i := range res.Planned {
				if res.Planned[i].RulesVersion != s.Version {
					t.Fatalf("planned[%d].RulesVersion = %q, want %q", i, res.Planned[i].RulesVersion, s.Version)
				}
				// The version changes with every edit of the example; keep goldens stable.
				res.Planned[i].RulesVersion = "<version>"
			}
			got, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", tc.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./rules -run TestExamplePrograms -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("result differs from %s (-want +got):\n%s", path, cmp.Diff(string(want), string(got)))
			}
		})
	}
}
