package journey

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/models"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) *time.Time { t := t0.Add(d); return &t }

const day = 24 * time.Hour

func ev(typ models.EventType, d time.Duration, order string, mod func(*models.EventData)) models.Event {
	e := models.Event{Type: typ, Timestamp: t0.Add(d), Data: models.EventData{Customer: models.CustomerRef{ID: "c-77"}}}
	if order != "" {
		e.Data.Order = &models.Order{ID: order}
	}
	if mod != nil {
		mod(&e.Data)
	}
	return e
}

// journey is two orders: the first delivered, the second returned; plus consent.
func journeyEvents() []models.Event {
	return []models.Event{
		ev(models.ConsentGranted, -day, "", func(d *models.EventData) { d.Consent = &models.Consent{Channel: "email"} }),
		ev(models.OrderPlaced, 0, "o-1", func(d *models.EventData) {
			d.Order.Total, d.Order.Currency = "59.80", "EUR"
			d.Order.Items = []models.LineItem{{SKU: "COFFEE-500", Category: "coffee", Quantity: 2, UnitPrice: "14.90"}}
			d.Customer.Birthday = "1990-04-12"
		}),
		ev(models.OrderPaid, time.Minute, "o-1", nil),
		ev(models.ShipmentShipped, day, "o-1", func(d *models.EventData) { d.Shipment = &models.Shipment{ID: "s-1"} }),
		ev(models.ShipmentDelivered, 3*day, "o-1", func(d *models.EventData) { d.Shipment = &models.Shipment{ID: "s-1"} }),
		ev(models.OrderPlaced, 30*day, "o-2", func(d *models.EventData) {
			d.Order.Total = "20.00"
			d.Order.Items = []models.LineItem{{SKU: "TEA-100", Category: "tea", Quantity: 1}}
		}),
		ev(models.ShipmentDelivered, 33*day, "o-2", func(d *models.EventData) { d.Shipment = &models.Shipment{ID: "s-2"} }),
		ev(models.ReturnReceived, 40*day, "o-2", func(d *models.EventData) { d.Return = &models.Return{ID: "r-1"} }),
		ev(models.RefundIssued, 41*day, "o-2", func(d *models.EventData) { d.Refund = &models.Refund{ID: "f-1", Amount: "20.00"} }),
	}
}

func TestBuild(t *testing.T) {
	now := t0.Add(45 * day)
	p := Build(journeyEvents(), now, DefaultOptions)
	want := models.Profile{
		Stage: models.StageFirstPurchase, OrderCount: 2, PositiveOrderCount: 1, ReturnCount: 1,
		TotalSpentCents: 5980, Currency: "EUR", FirstOrderAt: at(0), LastOrderAt: at(30 * day),
		ReorderIntervalDays: 30, Categories: []string{"coffee", "tea"}, SKUs: []string{"COFFEE-500", "TEA-100"},
		MarketingConsent: true, OptedOutCategories: []string{}, Birthday: "1990-04-12",
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Fatalf("profile (-want +got):\n%s", diff)
	}
}

func TestBuild_Stages(t *testing.T) {
	delivered := func(order string, d time.Duration) []models.Event {
		return []models.Event{
			ev(models.OrderPlaced, d, order, nil),
			ev(models.ShipmentDelivered, d+2*day, order, func(x *models.EventData) { x.Shipment = &models.Shipment{} }),
		}
	}
	var two, three []models.Event
	two = append(append(two, delivered("a", 0)...), delivered("b", 20*day)...)
	three = append(append([]models.Event{}, two...), delivered("c", 40*day)...)
	shippedOnly := []models.Event{ev(models.OrderPlaced, 0, "a", nil), ev(models.ShipmentShipped, day, "a", func(x *models.EventData) { x.Shipment = &models.Shipment{} })}
	tests := []struct {
		name   string
		events []models.Event
		now    time.Time
		want   models.Stage
	}{
		{"New", nil, t0, models.StageNew},
		{"FirstPurchase", delivered("a", 0), t0.Add(5 * day), models.StageFirstPurchase},
		{"SecondPositive", two, t0.Add(25 * day), models.StageSecondPositive},
		{"Loyal", three, t0.Add(45 * day), models.StageLoyal},
		{"AtRisk", three, t0.Add(140 * day), models.StageAtRisk},
		{"Lapsed", three, t0.Add(250 * day), models.StageLapsed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Build(tt.events, tt.now, DefaultOptions).Stage; got != tt.want {
				t.Fatalf("stage %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("ShippedPastAllowanceIsPositive", func(t *testing.T) {
		if got := Build(shippedOnly, t0.Add(3*day), DefaultOptions).PositiveOrderCount; got != 0 {
			t.Fatalf("within allowance: %d", got)
		}
		if got := Build(shippedOnly, t0.Add(9*day), DefaultOptions).PositiveOrderCount; got != 1 {
			t.Fatalf("past allowance: %d", got)
		}
	})
}

// TestBuild_OrderIndependent: any arrival order, with duplicates, gives the same profile.
func TestBuild_OrderIndependent(t *testing.T) {
	now := t0.Add(45 * day)
	want := Build(journeyEvents(), now, DefaultOptions)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		evs := journeyEvents()
		// Duplicates: the same step delivered again (the store keeps one per step key,
		// but the fold must not care either way for idempotent facts).
		evs = append(evs, evs[r.IntN(len(evs))])
		r.Shuffle(len(evs), func(a, b int) { evs[a], evs[b] = evs[b], evs[a] })
		evs = dedupe(evs)
		given := slices.Clone(evs)
		got := Build(evs, now, DefaultOptions)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("permutation %d changed the profile (-want +got):\n%s", i, diff)
		}
		// The fold sorts a copy when it must: the caller's slice (the
		// journal's, the cache's) keeps its order.
		Orders(evs)
		if diff := cmp.Diff(given, evs); diff != "" {
			t.Fatalf("permutation %d: Build or Orders reordered its input (-before +after):\n%s", i, diff)
		}
	}
}

// dedupe keeps one event per step key, as the events table's unique key does.
func dedupe(evs []models.Event) []models.Event {
	seen := map[string]bool{}
	var out []models.Event
	for _, e := range evs {
		if !seen[e.StepKey()] {
			seen[e.StepKey()] = true
			out = append(out, e)
		}
	}
	return out
}

func TestOrders_PaidBeforePlaced(t *testing.T) {
	evs := []models.Event{
		ev(models.OrderPaid, time.Minute, "o-1", nil),
		ev(models.OrderPlaced, 0, "o-1", func(d *models.EventData) { d.Order.Total = "10.00" }),
	}
	os := Orders(evs)
	if len(os) != 1 || !os[0].Paid || os[0].TotalCents != 1000 || !os[0].PlacedAt.Equal(t0) {
		t.Fatalf("%+v", os[0])
	}
}

// TestBuild_NotSales: a cancelled order and a test order leave the profile as
// it was without them — no order, spend, stage, last order, reorder interval
// or SKUs — in any arrival order.
func TestBuild_NotSales(t *testing.T) {
	now := t0.Add(45 * day)
	want := Build(journeyEvents(), now, DefaultOptions)
	cancelled := []models.Event{
		ev(models.OrderPlaced, 35*day, "o-3", func(d *models.EventData) {
			d.Order.Total, d.Order.Currency = "404.95", "USD"
			d.Order.Items = []models.LineItem{{SKU: "IPOD2008PINK", Category: "gadgets", Quantity: 1}}
		}),
		ev(models.OrderCancelled, 35*day+time.Hour, "o-3", nil),
	}
	// Shopify flags the order's own topics; the fulfillment of a test order
	// names only the order, without the flag.
	test := []models.Event{
		ev(models.OrderPlaced, 36*day, "o-4", func(d *models.EventData) {
			d.Order.Total, d.Order.Currency, d.Order.Test = "99.00", "USD", true
			d.Order.Items = []models.LineItem{{SKU: "TEST-1", Category: "test", Quantity: 1}}
		}),
		ev(models.OrderPaid, 36*day+time.Minute, "o-4", func(d *models.EventData) { d.Order.Test = true }),
		ev(models.ShipmentShipped, 37*day, "o-4", func(d *models.EventData) { d.Shipment = &models.Shipment{ID: "s-4"} }),
		ev(models.ShipmentDelivered, 38*day, "o-4", func(d *models.EventData) { d.Shipment = &models.Shipment{ID: "s-4"} }),
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 50; i++ {
		evs := append(append(journeyEvents(), cancelled...), test...)
		r.Shuffle(len(evs), func(a, b int) { evs[a], evs[b] = evs[b], evs[a] })
		if diff := cmp.Diff(want, Build(evs, now, DefaultOptions)); diff != "" {
			t.Fatalf("permutation %d: the cancelled or test order counts (-without +with):\n%s", i, diff)
		}
	}
	// On their own they leave the customer new.
	if p := Build(append(cancelled, test...), now, DefaultOptions); p.Stage != models.StageNew || p.OrderCount != 0 || p.TotalSpentCents != 0 || p.LastOrderAt != nil {
		t.Fatalf("profile of a cancelled and a test order: %+v", p)
	}
}

func TestTestOrders(t *testing.T) {
	evs := []models.Event{
		ev(models.OrderPlaced, 0, "o-1", nil),
		ev(models.ShipmentShipped, day, "o-2", func(d *models.EventData) { d.Shipment = &models.Shipment{} }),
		ev(models.OrderPaid, 0, "o-2", func(d *models.EventData) { d.Order.Test = true }),
	}
	if got := TestOrders(evs); !cmp.Equal(got, map[string]bool{"o-2": true}) {
		t.Fatalf("TestOrders = %v, want o-2", got)
	}
	if got := TestOrders(evs[:1]); got != nil {
		t.Fatalf("TestOrders without test orders = %v, want nil", got)
	}
	for _, o := range Orders(evs) {
		if o.Test != (o.ID == "o-2") {
			t.Fatalf("Orders: %s has Test %v", o.ID, o.Test)
		}
	}
}

// TestBuild_BoundsWhatItKeeps: a profile lists at most MaxProfileSKUs
// SKUs, the most recently bought, however many the journey holds.
func TestBuild_BoundsWhatItKeeps(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var evs []models.Event
	for o := 0; o < 6; o++ {
		ord := &models.Order{ID: fmt.Sprintf("o-%d", o), Currency: "EUR", Total: "1.00"}
		for i := 0; i < 300; i++ {
			ord.Items = append(ord.Items, models.LineItem{SKU: fmt.Sprintf("o%d-sku-%03d", o, i), Category: fmt.Sprintf("cat-%d-%d", o, i), Quantity: 1})
		}
		placedAt := at.AddDate(0, 0, o)
		ord.PlacedAt = &placedAt
		evs = append(evs, models.Event{Type: models.OrderPlaced, Timestamp: placedAt, Data: models.EventData{Customer: models.CustomerRef{ID: "c"}, Order: ord}})
	}
	p := Build(evs, at.AddDate(0, 1, 0), DefaultOptions)
	if len(p.SKUs) != MaxProfileSKUs || len(p.Categories) != MaxProfileCategories {
		t.Fatalf("%d SKUs and %d categories, want %d and %d", len(p.SKUs), len(p.Categories), MaxProfileSKUs, MaxProfileCategories)
	}
	if !slices.Contains(p.SKUs, "o5-sku-299") || !slices.Contains(p.SKUs, "o3-sku-000") || slices.Contains(p.SKUs, "o2-sku-299") {
		t.Fatal("the profile must keep the SKUs of the latest orders")
	}
	if !slices.IsSorted(p.SKUs) || p.OrderCount != 6 {
		t.Fatalf("skus sorted: %v, orders %d", slices.IsSorted(p.SKUs), p.OrderCount)
	}
}

// TestStagesAt_AsBuild: the one-pass stages equal Build's on every prefix,
// and its orders Orders',
// for random journeys of orders that are paid, shipped, delivered,
// returned, refunded, cancelled, complained about or flagged as tests.
func TestStagesAt_AsBuild(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []models.EventType{models.OrderPaid, models.ShipmentShipped, models.ShipmentDelivered, models.ReturnRequested,
		models.RefundIssued, models.OrderCancelled, models.ComplaintOpened, models.ConsentGranted}
	opts := DefaultOptions
	for n := range 500 {
		var evs []models.Event
		if r.IntN(4) == 0 {
			evs = append(evs, models.Event{Type: models.CustomerRegistered, Timestamp: start.Add(time.Duration(r.IntN(200*24)) * time.Hour)})
		}
		for o := range r.IntN(6) {
			id := fmt.Sprintf("o-%d", o)
			placed := start.Add(time.Duration(r.IntN(400*24)) * time.Hour)
			evs = append(evs, models.Event{Type: models.OrderPlaced, Timestamp: placed,
				Data: models.EventData{Order: &models.Order{ID: id, PlacedAt: &placed, Test: r.IntN(10) == 0}}})
			at := placed
			for _, s := range steps {
				if r.IntN(3) == 0 {
					continue
				}
				at = at.Add(time.Duration(1+r.IntN(20*24)) * time.Hour)
				e := models.Event{Type: s, Timestamp: at, Data: models.EventData{Order: &models.Order{ID: id}}}
				if s == models.RefundIssued {
					e.Data.Refund = &models.Refund{Amount: models.Money([]string{"", "0", "5.00"}[r.IntN(3)])}
				}
				evs = append(evs, e)
			}
		}
		Sort(evs)
		var ats []time.Time
		for m := range 24 {
			ats = append(ats, time.Date(2025, time.Month(1+m), 1, 0, 0, 0, 0, time.UTC))
		}
		got, orders := StagesAt(evs, ats, opts)
		if d := cmp.Diff(Orders(evs), orders); d != "" {
			t.Fatalf("journey %d: orders differ from Orders (-want +got):\n%s", n, d)
		}
		for i, at := range ats {
			k := 0
			for k < len(evs) && evs[k].OccurredAt().Before(at) {
				k++
			}
			want := models.Stage("")
			if k > 0 {
				want = Build(evs[:k], at, opts).Stage
			}
			if got[i] != want {
				t.Fatalf("journey %d at %s: stage %q, Build says %q", n, at.Format(time.DateOnly), got[i], want)
			}
		}
	}
}
