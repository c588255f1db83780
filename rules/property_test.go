package rules

import (
	"errors"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/models"
)

// Properties the integration relies on: evaluation is a pure function of its
// input, and the keys it produces depend only on business facts, so that a
// UNIQUE key in the actions table makes duplicates and replays harmless.

func TestEvaluate_Deterministic(t *testing.T) {
	s := mustLoad(t, examplePath)
	rng := rand.New(rand.NewSource(1))
	for _, tc := range programCases() {
		t.Run(tc.name, func(t *testing.T) {
			eval := s.Evaluate
			if tc.scan {
				eval = s.Scan
			}
			want := eval(tc.in())
			for i := 0; i < 5; i++ {
				in := tc.in()
				// The order in which the store hands over pending actions and
				// recent due times must not matter.
				rng.Shuffle(len(in.Pending), func(i, j int) { in.Pending[i], in.Pending[j] = in.Pending[j], in.Pending[i] })
				rng.Shuffle(len(in.Recent), func(i, j int) { in.Recent[i], in.Recent[j] = in.Recent[j], in.Recent[i] })
				if diff := cmp.Diff(want, eval(in)); diff != "" {
					t.Fatalf("run %d differs (-first +now):\n%s", i, diff)
				}
			}
		})
	}
}

// TestEvaluate_KeysIgnoreDelivery: a second delivery of the same business
// event (another delivery id, envelope timestamp, event row, processing
// time) yields the same keys.
func TestEvaluate_KeysIgnoreDelivery(t *testing.T) {
	s := mustLoad(t, examplePath)
	for _, tc := range programCases() {
		if tc.scan {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			first := tc.in()
			again := tc.in()
			again.EventID += 1000
			again.Event.Timestamp = again.Event.Timestamp.Add(3 * time.Minute)
			again.Now = again.Now.Add(17 * time.Hour)
			// The first result is stored by now: it counts against the cap.
			for _, p := range s.Evaluate(first).Planned {
				if p.Marketing && p.Status == models.ActionScheduled {
					again.Recent = append(again.Recent, p.DueAt)
				}
			}
			if diff := cmp.Diff(keys(s.Evaluate(first)), keys(s.Evaluate(again))); diff != "" {
				t.Errorf("keys differ (-first +redelivered):\n%s", diff)
			}
		})
	}
}

func keys(r Result) []string {
	out := make([]string, len(r.Planned))
	for i, p := range r.Planned {
		out[i] = p.Key
	}
	return out
}

// fakeActions is the actions table: UNIQUE key, scheduled actions cancellable.
type fakeActions struct {
	byKey  map[string]*Planned
	ids    map[string]int64
	status map[int64]models.ActionStatus
	order  []string
}

func newFakeActions() *fakeActions {
	return &fakeActions{byKey: map[string]*Planned{}, ids: map[string]int64{}, status: map[int64]models.ActionStatus{}}
}

// apply stores r like the integrator does and reports how many rows it inserted.
func (f *fakeActions) apply(r Result) (inserted int) {
	for i := range r.Planned {
		p := r.Planned[i]
		if _, dup := f.byKey[p.Key]; dup {
			continue // INSERT … ON DUPLICATE KEY: nothing
		}
		f.byKey[p.Key] = &p
		id := int64(len(f.order) + 1)
		f.ids[p.Key], f.status[id] = id, p.Status
		f.order = append(f.order, p.Key)
		inserted++
	}
	for _, c := range r.Cancels {
		if f.status[c.ActionID] == models.ActionScheduled {
			f.status[c.ActionID] = models.ActionCancelled
		}
	}
	return inserted
}

func (f *fakeActions) fill(in *Input) {
	in.Pending, in.Recent = nil, nil
	for _, k := range f.order {
		p, id := f.byKey[k], f.ids[k]
		if f.status[id] != models.ActionScheduled {
			continue
		}
		in.Pending = append(in.Pending, Pending{ID: id, RuleID: p.RuleID, Type: p.Type, DueAt: p.DueAt,
			SKU: p.SKU, OrderRef: p.OrderRef, Category: p.Category, Marketing: p.Marketing})
		if p.Marketing {
			in.Recent = append(in.Recent, p.DueAt)
		}
	}
}

// TestEvaluate_ReplayIsHarmless runs a whole journey, then delivers every
// event again in a shuffled order (with the same profile snapshot, as a
// duplicate does not change the profile): the UNIQUE key absorbs all of it.
func TestEvaluate_ReplayIsHarmless(t *testing.T) {
	s := mustLoad(t, examplePath)
	var journey []Input
	for _, tc := range programCases() {
		if !tc.scan {
			journey = append(journey, tc.in())
		}
	}
	store := newFakeActions()
	for _, in := range journey {
		store.fill(&in)
		store.apply(s.Evaluate(in))
	}
	if len(store.order) == 0 {
		t.Fatal("the journey planned nothing")
	}
	rng := rand.New(rand.NewSource(7))
	for round := 0; round < 20; round++ {
		rng.Shuffle(len(journey), func(i, j int) { journey[i], journey[j] = journey[j], journey[i] })
		for _, in := range journey {
			in.EventID += 10000
			in.Now = in.Now.Add(time.Duration(rng.Intn(72)) * time.Hour)
			store.fill(&in)
			if n := store.apply(s.Evaluate(in)); n != 0 {
				t.Fatalf("round %d: replaying %s inserted %d new actions", round, in.Event.Type, n)
			}
		}
	}
}

// TestEvaluate_RandomInputs checks invariants over generated journeys.
func TestEvaluate_RandomInputs(t *testing.T) {
	s := mustLoad(t, examplePath)
	rng := rand.New(rand.NewSource(42))
	skus := []string{"BEAN-ESP-1KG", "BEAN-FILTER-500G", "TEA-SENCHA-100G", "FILTER-102-100", "GRINDER-HAND", "UNKNOWN-1"}
	types := []models.EventType{models.OrderPlaced, models.OrderPaid, models.ShipmentShipped, models.ShipmentDelivered,
		models.ReturnRequested, models.ReturnReceived, models.RefundIssued, models.ComplaintOpened,
		models.ConsentRevoked, models.CategoryOptedOut, models.CustomerRegistered}
	for i := 0; i < 2000; i++ {
		in := randomInput(rng, skus, types)
		eval := s.Evaluate
		if rng.Intn(5) == 0 {
			eval = s.Scan
		}
		res, again := eval(in), eval(in)
		if diff := cmp.Diff(res, again); diff != "" {
			t.Fatalf("input %d not deterministic:\n%s", i, diff)
		}
		if len(res.Errors) > 0 {
			t.Fatalf("input %d: errors %v", i, res.Errors)
		}
		seen := map[string]bool{}
		for j, p := range res.Planned {
			switch {
			case !strings.HasPrefix(p.Key, p.RuleID+"|c:"+in.Profile.PublicID):
				t.Fatalf("input %d: key %q not scoped by rule and customer", i, p.Key)
			case seen[p.Key]:
				t.Fatalf("input %d: key %q twice", i, p.Key)
			case p.DueAt.Before(in.Now.UTC()):
				t.Fatalf("input %d: %s due %v before now %v", i, p.Key, p.DueAt, in.Now)
			case (p.Status == models.ActionSuppressed) != (p.Reason != ""):
				t.Fatalf("input %d: status %s with reason %q", i, p.Status, p.Reason)
			case j > 0 && res.Planned[j-1].Priority < p.Priority:
				t.Fatalf("input %d: not ordered by priority", i)
			}
			seen[p.Key] = true
			if p.Marketing && p.Status == models.ActionScheduled && in.Profile.OptedOut(p.Category) {
				t.Fatalf("input %d: %s scheduled in opted-out category %s", i, p.Key, p.Category)
			}
			if p.Marketing && p.Status == models.ActionScheduled && !in.Profile.MarketingConsent {
				t.Fatalf("input %d: %s scheduled without consent", i, p.Key)
			}
		}
	}
}

func randomInput(rng *rand.Rand, skus []string, types []models.EventType) Input {
	base := at(1, 0, 0).Add(time.Duration(rng.Intn(60*24)) * time.Hour)
	var items []models.LineItem
	for n := rng.Intn(4); n >= 0; n-- {
		items = append(items, line(skus[rng.Intn(len(skus))], 1+rng.Intn(3), []string{"4.90", "12.50", "24.90", ""}[rng.Intn(4)]))
	}
	orderID := "o-" + itoa(rng.Intn(5))
	typ := types[rng.Intn(len(types))]
	ev := orderEvent(models.OrderPaid, orderID, base, "", items...)
	ev.Type = typ
	d := &ev.Data
	switch typ {
	case models.ShipmentShipped, models.ShipmentDelivered:
		d.Shipment = &models.Shipment{ID: "sh", ShippedAt: tp(base.Add(-time.Duration(rng.Intn(100)) * time.Hour)),
			PromisedDeliveryAt: tp(base.Add(time.Duration(rng.Intn(48)-24) * time.Hour)), DeliveredAt: tp(base)}
	case models.ReturnRequested, models.ReturnReceived:
		d.Return = &models.Return{ID: "r", Items: items[:rng.Intn(len(items)+1)]}
	case models.RefundIssued:
		d.Refund = &models.Refund{ID: "rf", Amount: "5.00"}
	case models.ComplaintOpened:
		d.Complaint = &models.Complaint{Reason: "x"}
	case models.ConsentRevoked:
		d.Consent = &models.Consent{Channel: "email"}
	case models.CategoryOptedOut:
		d.OptOut = &models.OptOut{Category: []string{"tea", "beans"}[rng.Intn(2)]}
	}
	p := profile()
	p.PublicID = "cus_" + itoa(rng.Intn(1000))
	p.MarketingConsent = rng.Intn(3) > 0
	p.PositiveOrderCount = rng.Intn(4)
	p.PointsBalance = int64(rng.Intn(2000))
	p.LastOrderAt = tp(base.Add(-time.Duration(rng.Intn(150*24)) * time.Hour))
	if rng.Intn(3) == 0 {
		p.OptedOutCategories = []string{"tea"}
	}
	if rng.Intn(4) == 0 {
		p.ReferredBy = "REF"
	}
	p.Birthday = base.AddDate(-30, 0, rng.Intn(3)).Format(time.DateOnly)
	in := Input{Event: ev, EventID: int64(rng.Intn(1000)), Profile: p, Now: base.Add(time.Duration(rng.Intn(120)) * time.Minute)}
	for n := rng.Intn(4); n > 0; n-- {
		in.Recent = append(in.Recent, base.Add(time.Duration(rng.Intn(20*24)-10*24)*time.Hour))
	}
	for n := rng.Intn(4); n > 0; n-- {
		in.Pending = append(in.Pending, Pending{ID: int64(n), RuleID: []string{"reorder-reminder", "review-request", "win-back", "gone-rule"}[rng.Intn(4)],
			SKU: skus[rng.Intn(len(skus))], OrderRef: "o-" + itoa(rng.Intn(5)), Category: []string{"tea", "beans", ""}[rng.Intn(3)], Marketing: rng.Intn(2) == 0})
	}
	if rng.Intn(2) == 0 {
		st := OrderFromEvents([]models.Event{ev})
		in.Order = &st
	}
	return in
}

// TestOrderFromEvents_OrderIndependent: however the events of an order
// arrive, and however often, the folded order is the same.
func TestOrderFromEvents_OrderIndependent(t *testing.T) {
	placed := orderEvent(models.OrderPlaced, "o-1", at(2, 9, 15), "101.30", order1Items()...)
	paid := orderEvent(models.OrderPaid, "o-1", at(2, 9, 16), "")
	paid.Data.Order.Items = order1Items()[:1] // a payment event with partial lines must not win
	shipped := shipmentEvent(models.ShipmentShipped, "o-1", models.Shipment{ID: "a", ShippedAt: tp(at(3, 14, 0)), PromisedDeliveryAt: tp(at(6, 18, 0))}, at(3, 14, 1))
	shipped2 := shipmentEvent(models.ShipmentShipped, "o-1", models.Shipment{ID: "b", ShippedAt: tp(at(4, 10, 0))}, at(4, 10, 1))
	delivered := shipmentEvent(models.ShipmentDelivered, "o-1", models.Shipment{ID: "a", DeliveredAt: tp(at(5, 11, 30))}, at(5, 11, 31))
	delivered2 := shipmentEvent(models.ShipmentDelivered, "o-1", models.Shipment{ID: "b"}, at(7, 9, 0)) // no delivered_at: the envelope time
	ret := returnEvent(models.ReturnReceived, "o-1", "r-1", at(12, 10, 0), models.LineItem{SKU: "TEA-SENCHA-100G", Quantity: 1})
	events := []models.Event{placed, paid, shipped, shipped2, delivered, delivered2, ret}

	want := OrderState{
		ID: "o-1", PlacedAt: at(2, 9, 15), PaidAt: at(2, 9, 16), ShippedAt: at(3, 14, 0),
		PromisedDeliveryAt: at(6, 18, 0), DeliveredAt: at(7, 9, 0), Currency: "EUR", Total: "101.30", Items: order1Items(),
	}
	if diff := cmp.Diff(want, OrderFromEvents(events)); diff != "" {
		t.Fatalf("fold (-want +got):\n%s", diff)
	}
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < 200; i++ {
		evs := append([]models.Event{}, events...)
		for n := rng.Intn(4); n > 0; n-- {
			evs = append(evs, events[rng.Intn(len(events))]) // duplicate deliveries
		}
		rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		if diff := cmp.Diff(want, OrderFromEvents(evs)); diff != "" {
			t.Fatalf("permutation %d (-want +got):\n%s", i, diff)
		}
	}
}

func TestHolder(t *testing.T) {
	a := mustLoad(t, examplePath)
	h := NewHolder(a)
	if h.Get() != a {
		t.Fatal("Get")
	}
	if _, err := h.Reload("testdata/check/duplicate_id.yaml"); err == nil {
		t.Fatal("a broken file must not load")
	}
	if h.Get() != a {
		t.Fatal("a failed reload must keep the old set")
	}
	b, err := h.Reload(examplePath)
	if err != nil || h.Get() != b || b == a {
		t.Fatalf("reload: %v", err)
	}
	if old := h.Swap(a); old != b {
		t.Fatal("Swap returns the previous set")
	}
}

// TestEvaluate_Concurrent: one Set serves every worker (run with -race).
func TestEvaluate_Concurrent(t *testing.T) {
	s := mustLoad(t, examplePath)
	cases := programCases()
	want := make([]Result, len(cases))
	for i, tc := range cases {
		if tc.scan {
			want[i] = s.Scan(tc.in())
		} else {
			want[i] = s.Evaluate(tc.in())
		}
	}
	done := make(chan error)
	for w := 0; w < 4; w++ {
		go func() {
			for n := 0; n < 20; n++ {
				for i, tc := range cases {
					var got Result
					if tc.scan {
						got = s.Scan(tc.in())
					} else {
						got = s.Evaluate(tc.in())
					}
					if !cmp.Equal(want[i], got) {
						done <- errors.New(tc.name + " differs under concurrency")
						return
					}
				}
			}
			done <- nil
		}()
	}
	for w := 0; w < 4; w++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
