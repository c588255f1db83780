package reports

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
)

// loyaltyFakeSource serves journeys as the store does, and records the
// pages asked for.
type loyaltyFakeSource struct {
	journeys []models.LoyaltyJourney // by customer id
	pages    [][]int64
	err      error
}

func (f *loyaltyFakeSource) ShopCustomerIDs(context.Context, int64) ([]int64, error) {
	var ids []int64
	for _, j := range f.journeys {
		ids = append(ids, j.CustomerID)
	}
	return ids, f.err
}

func (f *loyaltyFakeSource) LoyaltyJourneys(_ context.Context, ids []int64) ([]models.LoyaltyJourney, error) {
	f.pages = append(f.pages, slices.Clone(ids))
	var out []models.LoyaltyJourney
	for _, j := range f.journeys {
		if slices.Contains(ids, j.CustomerID) {
			// A copy: the report sorts the events it is given.
			out = append(out, models.LoyaltyJourney{CustomerID: j.CustomerID, Events: slices.Clone(j.Events)})
		}
	}
	return out, nil
}

// loyaltyPlant builds the customers of a planted data set.
type loyaltyPlant struct {
	journeys []models.LoyaltyJourney
}

func (p *loyaltyPlant) customer(events ...models.Event) {
	id := int64(len(p.journeys) + 1)
	for i := range events {
		events[i].Data.Customer = models.CustomerRef{ID: fmt.Sprintf("c-%d", id)}
	}
	// Stored order is not source order; the report must not care.
	slices.Reverse(events)
	p.journeys = append(p.journeys, models.LoyaltyJourney{CustomerID: id, Events: events})
}

func loyaltyUTC(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func loyaltyPlaced(id, at string) models.Event {
	t := loyaltyUTC(at)
	return models.Event{Type: models.OrderPlaced, Timestamp: t, Data: models.EventData{
		Order: &models.Order{ID: id, PlacedAt: &t, Currency: "EUR", Total: "20.00"}}}
}

func loyaltyTestOrder(id, at string) models.Event {
	e := loyaltyPlaced(id, at)
	e.Data.Order.Test = true
	return e
}

func loyaltyDelivered(id, at string) models.Event {
	t := loyaltyUTC(at)
	return models.Event{Type: models.ShipmentDelivered, Timestamp: t, Data: models.EventData{
		Order: &models.Order{ID: id}, Shipment: &models.Shipment{ID: "s-" + id, DeliveredAt: &t}}}
}

func loyaltyCancelled(id, at string) models.Event {
	return models.Event{Type: models.OrderCancelled, Timestamp: loyaltyUTC(at), Data: models.EventData{Order: &models.Order{ID: id}}}
}

func loyaltyRegistered(at string) models.Event {
	return models.Event{Type: models.CustomerRegistered, Timestamp: loyaltyUTC(at)}
}

// loyaltyPlanted is a shop in Europe/Berlin, reported for [2026-01-01,
// 2026-07-01) (2025-12-31T23:00Z to 2026-06-30T22:00Z). Times are UTC.
//
//	A1-A6   ordered Jan 10 (delivered Jan 12) and Feb 10 (delivered Feb 12); A1 also Mar 12 (delivered Mar 14)
//	A7-A10  ordered Jan 10 (delivered) and May 10 (delivered): 120 days apart
//	A11-A20 ordered Jan 10 (delivered), nothing since
//	B1-B5   ordered Mar 5 and Mar 25, nothing delivered
//	B6-B17  ordered Mar 5, nothing delivered
//	C1-C3   ordered 2025-11-15 (delivered) and Feb 1 (delivered): first order before the period
//	D1-D2   one order, Feb 3, cancelled Feb 4
//	E1      a test order Jan 20, then a real one Apr 2
//	F1      registered Jan 5, never ordered
//	G1      ordered Jun 5 and Jul 15 (after the period)
//	H1      ordered Jun 30 21:30Z: 23:30 in Berlin, still June
//	I1      ordered Jun 30 22:30Z: 00:30 on July 1 in Berlin, after the period
//	L1      ordered 2025-06-01 (delivered), nothing since
func loyaltyPlanted() []models.LoyaltyJourney {
	var p loyaltyPlant
	for i := 1; i <= 20; i++ {
		evs := []models.Event{loyaltyPlaced("a1", "2026-01-10T12:00:00Z"), loyaltyDelivered("a1", "2026-01-12T12:00:00Z")}
		switch {
		case i <= 6:
			evs = append(evs, loyaltyPlaced("a2", "2026-02-10T12:00:00Z"), loyaltyDelivered("a2", "2026-02-12T12:00:00Z"))
			if i == 1 {
				evs = append(evs, loyaltyPlaced("a3", "2026-03-12T12:00:00Z"), loyaltyDelivered("a3", "2026-03-14T12:00:00Z"))
			}
		case i <= 10:
			evs = append(evs, loyaltyPlaced("a2", "2026-05-10T12:00:00Z"), loyaltyDelivered("a2", "2026-05-12T12:00:00Z"))
		}
		p.customer(evs...)
	}
	for i := 1; i <= 17; i++ {
		evs := []models.Event{loyaltyPlaced("b1", "2026-03-05T12:00:00Z")}
		if i <= 5 {
			evs = append(evs, loyaltyPlaced("b2", "2026-03-25T12:00:00Z"))
		}
		p.customer(evs...)
	}
	for range 3 {
		p.customer(loyaltyPlaced("c1", "2025-11-15T12:00:00Z"), loyaltyDelivered("c1", "2025-11-17T12:00:00Z"),
			loyaltyPlaced("c2", "2026-02-01T12:00:00Z"), loyaltyDelivered("c2", "2026-02-03T12:00:00Z"))
	}
	for range 2 {
		p.customer(loyaltyPlaced("d1", "2026-02-03T12:00:00Z"), loyaltyCancelled("d1", "2026-02-04T12:00:00Z"))
	}
	p.customer(loyaltyTestOrder("e1", "2026-01-20T12:00:00Z"), loyaltyPlaced("e2", "2026-04-02T12:00:00Z"))
	p.customer(loyaltyRegistered("2026-01-05T12:00:00Z"))
	p.customer(loyaltyPlaced("g1", "2026-06-05T12:00:00Z"), loyaltyPlaced("g2", "2026-07-15T12:00:00Z"))
	p.customer(loyaltyPlaced("h1", "2026-06-30T21:30:00Z"))
	p.customer(loyaltyPlaced("i1", "2026-06-30T22:30:00Z"))
	p.customer(loyaltyPlaced("l1", "2025-06-01T12:00:00Z"), loyaltyDelivered("l1", "2025-06-03T12:00:00Z"))
	return p.journeys
}

var loyaltyShop = &models.Shop{ID: 7, Key: "acme", Timezone: "Europe/Berlin"}

func loyaltyCompute(t *testing.T, src LoyaltySource, from, to string, now time.Time, minSample, batch int) *Loyalty {
	t.Helper()
	p, err := ParseLoyaltyPeriod(loyaltyShop, from, to, now)
	if err != nil {
		t.Fatal(err)
	}
	r := &LoyaltyReport{Source: src, Options: journey.DefaultOptions, MinSample: minSample, BatchSize: batch}
	l, err := r.Run(context.Background(), loyaltyShop, p, now)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func loyaltyPtr(v float64) *float64 { return &v }

func loyaltyNulls(n int) []*float64 { return make([]*float64, n) }

func loyaltyRates(vs ...float64) []*float64 {
	out := make([]*float64, len(vs))
	for i, v := range vs {
		out[i] = loyaltyPtr(v)
	}
	return out
}

// loyaltyPlantedStages are the planted customers' stages at each month's
// end, worked out by hand from the lifecycle rules (at risk after 90 days
// without an order, lapsed after 180, loyal from 3 positive orders):
//
//	Jan: A (first_purchase 20), C (first_purchase: 77 days), E and F (new), L (lapsed: 244 days)
//	Feb: A1-6 and C (second_positive 9), A7-20 (first_purchase 14), D, E, F (new 4)
//	Mar: A1 (loyal), A2-6 and C (second_positive 8), A7-20 and B (first_purchase 31), D, E, F (new 4)
//	Apr: A7-20 at risk (110 days); C still second_positive (88.4 days); E first_purchase
//	May: A2-6, A11-20 and C at risk (18); A7-10 second_positive; B (87.4 days) and E first_purchase
//	Jun: everyone at risk but A7-10, E (89.4 days), G and H; I's order is July's
var loyaltyPlantedStages = []LoyaltyStageMonth{
	{"2026-01", LoyaltyStageCounts{New: 2, FirstPurchase: 23, Lapsed: 1}},
	{"2026-02", LoyaltyStageCounts{New: 4, FirstPurchase: 14, SecondPositive: 9, Lapsed: 1}},
	{"2026-03", LoyaltyStageCounts{New: 4, FirstPurchase: 31, SecondPositive: 8, Loyal: 1, Lapsed: 1}},
	{"2026-04", LoyaltyStageCounts{New: 3, FirstPurchase: 18, SecondPositive: 8, Loyal: 1, AtRisk: 14, Lapsed: 1}},
	{"2026-05", LoyaltyStageCounts{New: 3, FirstPurchase: 18, SecondPositive: 4, Loyal: 1, AtRisk: 18, Lapsed: 1}},
	{"2026-06", LoyaltyStageCounts{New: 3, FirstPurchase: 3, SecondPositive: 4, AtRisk: 36, Lapsed: 1}},
}

func TestLoyalty_Planted(t *testing.T) {
	now := loyaltyUTC("2026-08-15T10:00:00Z")
	t.Run("MinSample30", func(t *testing.T) {
		got := loyaltyCompute(t, &loyaltyFakeSource{journeys: loyaltyPlanted()}, "2026-01-01", "2026-07-01", now, 0, 0)
		note := func(n int, what string) string { return fmt.Sprintf("not enough data: %d %s, 30 needed", n, what) }
		want := &Loyalty{
			Shop: "acme", From: "2026-01-01", To: "2026-07-01", Timezone: "Europe/Berlin", MinSample: 30,
			// A, B, C, E, G, H, L; not D (cancelled), F (no order), I (after the period).
			Customers: 44,
			// First counted order in the period: A, B, E (the test order does
			// not count), G, H. Repeat: A1-10 and B1-5; G's second is too late.
			// Within 90 days: A1-6 (31 days) and B1-5 (20 days).
			Repurchase: LoyaltyRepurchase{Customers: 40, RepeatCustomers: 15, Rate: loyaltyPtr(0.375),
				Within90Days: LoyaltyRepeatCount{RepeatCustomers: 11, Rate: loyaltyPtr(0.275)}},
			// A1: 31 and 30 days, A2-6: 31, A7-10: 120, B1-5: 20; C's first
			// order is before the period, G's second after it.
			DaysBetweenOrders: LoyaltyOrderGaps{Gaps: 16, Note: note(16, "gaps")},
			Stages:            loyaltyPlantedStages,
			Cohorts: []LoyaltyCohort{
				{Cohort: "2026-01", Size: 20, Retained: []int{20, 6, 1, 0, 4, 0}, Rates: loyaltyNulls(6), Note: note(20, "customers")},
				{Cohort: "2026-02", Size: 0, Retained: []int{0, 0, 0, 0, 0}, Rates: loyaltyNulls(5), Note: note(0, "customers")},
				{Cohort: "2026-03", Size: 17, Retained: []int{17, 0, 0, 0}, Rates: loyaltyNulls(4), Note: note(17, "customers")},
				{Cohort: "2026-04", Size: 1, Retained: []int{1, 0, 0}, Rates: loyaltyNulls(3), Note: note(1, "customer")},
				{Cohort: "2026-05", Size: 0, Retained: []int{0, 0}, Rates: loyaltyNulls(2), Note: note(0, "customers")},
				{Cohort: "2026-06", Size: 2, Retained: []int{2}, Rates: loyaltyNulls(1), Note: note(2, "customers")},
			},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("figures (-want +got):\n%s", d)
		}
	})
	t.Run("MinSample10", func(t *testing.T) {
		got := loyaltyCompute(t, &loyaltyFakeSource{journeys: loyaltyPlanted()}, "2026-01-01", "2026-07-01", now, 10, 0)
		// Gaps sorted: 20 ×5, 30, 31 ×6, 120 ×4: the middle two are 31.
		if d := cmp.Diff(LoyaltyOrderGaps{Median: loyaltyPtr(31), Gaps: 16}, got.DaysBetweenOrders); d != "" {
			t.Errorf("days between orders (-want +got):\n%s", d)
		}
		if got.Repurchase.Note != "" || got.MinSample != 10 {
			t.Errorf("repurchase note %q, min_sample %d", got.Repurchase.Note, got.MinSample)
		}
		jan, mar, apr := got.Cohorts[0], got.Cohorts[2], got.Cohorts[3]
		if d := cmp.Diff(loyaltyRates(1, 0.3, 0.05, 0, 0.2, 0), jan.Rates); d != "" || jan.Note != "" {
			t.Errorf("January cohort rates (-want +got):\n%s note %q", d, jan.Note)
		}
		if d := cmp.Diff(loyaltyRates(1, 0, 0, 0), mar.Rates); d != "" {
			t.Errorf("March cohort rates (-want +got):\n%s", d)
		}
		if d := cmp.Diff(loyaltyNulls(3), apr.Rates); d != "" || apr.Note != "not enough data: 1 customer, 10 needed" {
			t.Errorf("April cohort: %s note %q", d, apr.Note)
		}
	})
	t.Run("Batches", func(t *testing.T) {
		// Pages of 7 customers give the same figures as one page; every
		// customer is read once, and progress is told after every page.
		src := &loyaltyFakeSource{journeys: loyaltyPlanted()}
		p, _ := ParseLoyaltyPeriod(loyaltyShop, "2026-01-01", "2026-07-01", now)
		var progress []string
		r := &LoyaltyReport{Source: src, Options: journey.DefaultOptions, BatchSize: 7,
			Progress: func(read, total int) { progress = append(progress, fmt.Sprintf("%d/%d", read, total)) }}
		small, err := r.Run(context.Background(), loyaltyShop, p, now)
		if err != nil {
			t.Fatal(err)
		}
		whole := loyaltyCompute(t, &loyaltyFakeSource{journeys: loyaltyPlanted()}, "2026-01-01", "2026-07-01", now, 0, 1000)
		if d := cmp.Diff(whole, small); d != "" {
			t.Errorf("pages of 7 differ from one page (-one +paged):\n%s", d)
		}
		// 48 customers: six full pages and a last one of six, each customer once.
		var read []int64
		for _, pg := range src.pages {
			read = append(read, pg...)
		}
		if len(src.pages) != 7 || len(src.pages[6]) != 6 || len(read) != 48 || !slices.IsSorted(read) || len(slices.Compact(slices.Clone(read))) != 48 {
			t.Errorf("pages %v", src.pages)
		}
		if want := []string{"7/48", "14/48", "21/48", "28/48", "35/48", "42/48", "48/48"}; !slices.Equal(progress, want) {
			t.Errorf("progress %v, want %v", progress, want)
		}
	})
}

// TestLoyalty_StagesAsBuild checks the month-end stages against
// journey.Build run on each customer's history cut at the month's end, with
// events of every kind mixed in (consent, reviews, a complaint, returns).
func TestLoyalty_StagesAsBuild(t *testing.T) {
	js := loyaltyPlanted()
	consent := models.Event{Type: models.ConsentGranted, Timestamp: loyaltyUTC("2026-01-02T08:00:00Z"),
		Data: models.EventData{Consent: &models.Consent{Channel: "email"}}}
	complaint := models.Event{Type: models.ComplaintOpened, Timestamp: loyaltyUTC("2026-03-20T08:00:00Z"),
		Data: models.EventData{Order: &models.Order{ID: "a2"}, Complaint: &models.Complaint{Reason: "late"}}}
	js[1].Events = append(js[1].Events, consent, complaint) // A2's second order turns negative in March
	js[2].Events = append(js[2].Events, consent)
	now := loyaltyUTC("2026-08-15T10:00:00Z")
	got := loyaltyCompute(t, &loyaltyFakeSource{journeys: js}, "2026-01-01", "2026-07-01", now, 0, 5)
	p, _ := ParseLoyaltyPeriod(loyaltyShop, "2026-01-01", "2026-07-01", now)
	loc := p.Location
	for j, m := range got.Stages {
		at := time.Date(2026, time.Month(j+2), 1, 0, 0, 0, 0, loc)
		var want LoyaltyStageCounts
		for _, jr := range js {
			var upTo []models.Event
			for _, e := range jr.Events {
				if e.OccurredAt().Before(at) {
					upTo = append(upTo, e)
				}
			}
			if len(upTo) > 0 {
				want.add(journey.Build(upTo, at, journey.DefaultOptions).Stage)
			}
		}
		if d := cmp.Diff(want, m.Counts); d != "" {
			t.Errorf("%s (-journey.Build +report):\n%s", m.Month, d)
		}
	}
	// The complaint spoils A2's second order: one second_positive fewer
	// from March than in the planted set.
	if got.Stages[2].Counts.SecondPositive != loyaltyPlantedStages[2].Counts.SecondPositive-1 {
		t.Errorf("March: %+v", got.Stages[2].Counts)
	}
}

// TestLoyalty_Now: months after now are not evaluated, and the month of now
// is evaluated at now.
func TestLoyalty_Now(t *testing.T) {
	now := loyaltyUTC("2026-03-13T12:00:00Z")
	got := loyaltyCompute(t, &loyaltyFakeSource{journeys: loyaltyPlanted()}, "2026-01-01", "2027-01-01", now, 10, 0)
	var months []string
	for _, m := range got.Stages {
		months = append(months, m.Month)
	}
	if !slices.Equal(months, []string{"2026-01", "2026-02", "2026-03"}) || len(got.Cohorts) != 3 {
		t.Fatalf("months %v, %d cohorts", months, len(got.Cohorts))
	}
	// On March 13, A1's third order (Mar 12) is placed but not delivered: A1
	// is second_positive; B's orders of Mar 25 have not happened.
	mar := got.Stages[2].Counts
	if d := cmp.Diff(LoyaltyStageCounts{New: 4, FirstPurchase: 14 + 17, SecondPositive: 9, Lapsed: 1}, mar); d != "" {
		t.Errorf("March at now (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]int{20, 6, 1}, got.Cohorts[0].Retained); d != "" {
		t.Errorf("January cohort (-want +got):\n%s", d)
	}
	// Orders stamped after now (the planted set has them) count nowhere:
	// first orders by March 13 are A's and B's, second orders A1-6's.
	if got.Customers != 41 || got.Repurchase.Customers != 37 || got.Repurchase.RepeatCustomers != 6 || got.DaysBetweenOrders.Gaps != 7 {
		t.Errorf("customers %d, repurchase %+v, gaps %d", got.Customers, got.Repurchase, got.DaysBetweenOrders.Gaps)
	}
}

func TestLoyalty_SourceError(t *testing.T) {
	boom := errors.New("boom")
	p, _ := ParseLoyaltyPeriod(loyaltyShop, "", "", loyaltyUTC("2026-08-15T10:00:00Z"))
	r := &LoyaltyReport{Source: &loyaltyFakeSource{err: boom}, Options: journey.DefaultOptions}
	if _, err := r.Run(context.Background(), loyaltyShop, p, loyaltyUTC("2026-08-15T10:00:00Z")); !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
}

func TestLoyalty_Empty(t *testing.T) {
	got := loyaltyCompute(t, &loyaltyFakeSource{}, "2026-01-01", "2026-03-01", loyaltyUTC("2026-08-15T10:00:00Z"), 0, 0)
	if got.Customers != 0 || got.Repurchase.Rate != nil || got.Repurchase.Within90Days.Rate != nil ||
		got.Repurchase.Note != "not enough data: 0 customers, 30 needed" || got.DaysBetweenOrders.Median != nil ||
		len(got.Stages) != 2 || got.Stages[1].Counts.Total() != 0 || len(got.Cohorts) != 2 {
		t.Errorf("empty shop: %+v", got)
	}
}

func TestLoyalty_ParsePeriod(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	// 00:30 on December 3 in Berlin, still December 2 in UTC.
	now := loyaltyUTC("2026-12-02T23:30:00Z")
	tests := []struct {
		name, from, to string
		wantFrom       time.Time
		wantTo         time.Time
		wantErr        string
	}{
		{name: "Defaults", wantFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, berlin), wantTo: time.Date(2026, 12, 4, 0, 0, 0, 0, berlin)},
		{name: "DefaultFrom", to: "2027-01-01", wantFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, berlin), wantTo: time.Date(2027, 1, 1, 0, 0, 0, 0, berlin)},
		{name: "DefaultFromMidMonth", to: "2026-06-15", wantFrom: time.Date(2025, 7, 1, 0, 0, 0, 0, berlin), wantTo: time.Date(2026, 6, 15, 0, 0, 0, 0, berlin)},
		{name: "Given", from: "2026-03-01", to: "2026-04-01", wantFrom: loyaltyUTC("2026-02-28T23:00:00Z"), wantTo: loyaltyUTC("2026-03-31T22:00:00Z")},
		{name: "ErrDate", from: "2026-13-01", to: "01.02.2026", wantErr: `invalid: to: must be a date YYYY-MM-DD, got "01.02.2026"; from: must be a date YYYY-MM-DD, got "2026-13-01"`},
		{name: "ErrOrder", from: "2026-04-01", to: "2026-04-01", wantErr: "invalid: from: must be before to (2026-04-01), got 2026-04-01"},
		{name: "ErrFromAfterDefaultTo", from: "2027-01-01", wantErr: "invalid: from: must be before to (2026-12-04), got 2027-01-01"},
		{name: "ErrLong", from: "2016-01-01", to: "2026-01-02", wantErr: "invalid: from: the period spans more than 120 months"},
		{name: "TenYears", from: "2016-01-01", to: "2026-01-01", wantFrom: time.Date(2016, 1, 1, 0, 0, 0, 0, berlin), wantTo: time.Date(2026, 1, 1, 0, 0, 0, 0, berlin)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseLoyaltyPeriod(loyaltyShop, tt.from, tt.to, now)
			if tt.wantErr != "" {
				var ve *models.ValidationError
				if !errors.As(err, &ve) || err.Error() != tt.wantErr {
					t.Fatalf("got %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || !p.From.Equal(tt.wantFrom) || !p.To.Equal(tt.wantTo) || p.Location.String() != "Europe/Berlin" {
				t.Fatalf("got %v – %v (%v) %v, want %v – %v", p.From, p.To, p.Location, err, tt.wantFrom, tt.wantTo)
			}
		})
	}
	t.Run("UTCWithoutZone", func(t *testing.T) {
		p, err := ParseLoyaltyPeriod(&models.Shop{Key: "x"}, "2026-01-01", "2026-02-01", now)
		if err != nil || p.Location != time.UTC || !p.From.Equal(loyaltyUTC("2026-01-01T00:00:00Z")) {
			t.Fatalf("%v %v", p, err)
		}
	})
}
