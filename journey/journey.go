// Package journey derives a customer's profile from their journey events.
// It is pure: the same events give the same profile whatever order they
// arrived in, which is what makes out-of-order webhooks harmless.
package journey

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/treue/treue/models"
)

// Options are the merchant's lifecycle thresholds.
type Options struct {
	// DeliveryAllowance: a shipped order with no delivery event counts as
	// delivered once this much time has passed since shipping.
	DeliveryAllowance time.Duration
	// LoyalAfter is the number of positive orders that makes a customer loyal.
	LoyalAfter int
	// AtRiskAfter and LapsedAfter measure the time since the last order.
	AtRiskAfter time.Duration
	LapsedAfter time.Duration
}

// DefaultOptions are used where the rules file sets nothing.
var DefaultOptions = Options{
	DeliveryAllowance: 7 * 24 * time.Hour,
	LoyalAfter:        3,
	AtRiskAfter:       90 * 24 * time.Hour,
	LapsedAfter:       180 * 24 * time.Hour,
}

// Order is one order as accumulated from all its events.
type Order struct {
	ID                 string
	PlacedAt           time.Time
	TotalCents         int64
	Currency           string
	Items              []models.LineItem
	Paid               bool
	ShippedAt          *time.Time
	PromisedDeliveryAt *time.Time
	DeliveredAt        *time.Time
	Returned           bool
	RefundedCents      int64
	Complained         bool
	Cancelled          bool
	// Test is set when any event of the order flags it as a test order: later
	// steps (a Shopify fulfillment, a refund) do not repeat the flag.
	Test bool
}

// Positive reports whether the order counts as a positive purchase at now:
// delivered (or shipped long enough ago) and not returned, refunded,
// complained about or cancelled.
func (o *Order) Positive(now time.Time, allowance time.Duration) bool {
	if o.Returned || o.RefundedCents > 0 || o.Complained || o.Cancelled {
		return false
	}
	if o.DeliveredAt != nil {
		return true
	}
	return o.ShippedAt != nil && now.Sub(*o.ShippedAt) >= allowance
}

// Sort puts events into the canonical order the fold uses: source time, then
// type and step, so that arrival order never matters.
func Sort(events []models.Event) {
	slices.SortStableFunc(events, canonical)
}

func canonical(a, b models.Event) int {
	if c := a.OccurredAt().Compare(b.OccurredAt()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	return cmp.Compare(a.StepKey(), b.StepKey())
}

// sorted returns events in canonical order for a fold that only reads them:
// events itself when it is in that order already, as a journey read in the
// order of its source times nearly always is, else a sorted copy. The fold
// runs for every event of every batch, and the copy was most of its garbage.
func sorted(events []models.Event) []models.Event {
	if slices.IsSortedFunc(events, canonical) {
		return events
	}
	evs := slices.Clone(events)
	Sort(evs)
	return evs
}

// Orders folds events into orders, keyed by order id, in placement order.
func Orders(events []models.Event) []*Order {
	evs := sorted(events)
	byID := map[string]*Order{}
	var list []*Order
	for i := range evs {
		list = foldOrder(byID, list, &evs[i])
	}
	slices.SortStableFunc(list, func(a, b *Order) int { return a.PlacedAt.Compare(b.PlacedAt) })
	return list
}

// foldOrder merges e into its order in byID, appending a new order to list.
func foldOrder(byID map[string]*Order, list []*Order, e *models.Event) []*Order {
	d := &e.Data
	if d.Order == nil || d.Order.ID == "" {
		return list
	}
	o := byID[d.Order.ID]
	if o == nil {
		o = &Order{ID: d.Order.ID, PlacedAt: e.OccurredAt()}
		byID[o.ID] = o
		list = append(list, o)
	}
	mergeOrder(o, e)
	return list
}

func mergeOrder(o *Order, e *models.Event) {
	d := &e.Data
	if p := d.Order.PlacedAt; p != nil && !p.IsZero() {
		o.PlacedAt = p.UTC()
	} else if at := e.OccurredAt(); at.Before(o.PlacedAt) {
		o.PlacedAt = at
	}
	if c, ok := d.Order.Total.Cents(); ok && d.Order.Total != "" {
		o.TotalCents = c
	}
	if d.Order.Currency != "" {
		o.Currency = d.Order.Currency
	}
	if len(d.Order.Items) > 0 {
		o.Items = d.Order.Items
	}
	o.Test = o.Test || d.Order.Test
	at := e.OccurredAt()
	switch e.Type {
	case models.OrderPaid:
		o.Paid = true
	case models.OrderCancelled:
		o.Cancelled = true
	case models.ShipmentShipped:
		if o.ShippedAt == nil || at.Before(*o.ShippedAt) {
			shipped := at // only a time kept escapes: the fold runs for every event of every batch
			o.ShippedAt = &shipped
		}
		if d.Shipment != nil && d.Shipment.PromisedDeliveryAt != nil {
			p := d.Shipment.PromisedDeliveryAt.UTC()
			o.PromisedDeliveryAt = &p
		}
	case models.ShipmentDelivered:
		if o.DeliveredAt == nil || at.After(*o.DeliveredAt) {
			delivered := at
			o.DeliveredAt = &delivered
		}
	case models.ReturnRequested, models.ReturnReceived:
		o.Returned = true
	case models.RefundIssued:
		if d.Refund != nil {
			if c, ok := d.Refund.Amount.Cents(); ok && c > 0 {
				o.RefundedCents += c
				break
			}
		}
		o.RefundedCents = max(o.RefundedCents, 1) // a refund of unknown size still spoils the order
	case models.ComplaintOpened:
		o.Complained = true
	}
}

// TestOrders returns the ids of the orders that any of events flags as a
// test order (nil when there are none). The flag sits on the order's own
// events; the later steps of a test order are found through its id.
func TestOrders(events []models.Event) map[string]bool {
	var ids map[string]bool
	for i := range events {
		if o := events[i].Data.Order; o != nil && o.Test && o.ID != "" {
			if ids == nil {
				ids = map[string]bool{}
			}
			ids[o.ID] = true
		}
	}
	return ids
}

// Build derives the profile from a customer's events at now.
func Build(events []models.Event, now time.Time, opts Options) models.Profile {
	evs := sorted(events)
	p := models.Profile{Stage: models.StageNew, Categories: []string{}, SKUs: []string{}, OptedOutCategories: []string{}}
	// What the customer bought, by the index of the latest order holding it.
	cats, skus, optOuts := map[string]int{}, map[string]int{}, map[string]bool{}
	for i := range evs {
		e := &evs[i]
		c := e.Data.Customer
		if c.Birthday != "" {
			p.Birthday = c.Birthday
		}
		if name := strings.TrimSpace(c.FirstName + " " + c.LastName); name != "" {
			p.Name = name
		}
		if c.ReferredBy != "" {
			p.ReferredBy = c.ReferredBy
		}
		switch e.Type {
		case models.ConsentGranted:
			p.MarketingConsent = true
		case models.ConsentRevoked:
			p.MarketingConsent = false
		case models.CategoryOptedOut:
			optOuts[e.Data.OptOut.Category] = true
		}
	}
	var placed []time.Time
	for _, o := range Orders(evs) {
		// A cancelled order was never a sale, and a test order never a real
		// one: neither counts towards orders, spend, stage, the last order or
		// what the customer bought.
		if o.Cancelled || o.Test {
			continue
		}
		p.OrderCount++
		if o.Returned {
			p.ReturnCount++
		}
		if o.Positive(now, opts.DeliveryAllowance) {
			p.PositiveOrderCount++
		}
		p.TotalSpentCents += o.TotalCents - min(o.RefundedCents, o.TotalCents)
		if o.Currency != "" {
			p.Currency = o.Currency
		}
		placed = append(placed, o.PlacedAt)
		for _, it := range o.Items {
			if it.Category != "" {
				cats[it.Category] = len(placed)
			}
			if it.SKU != "" {
				skus[it.SKU] = len(placed)
			}
		}
	}
	if n := len(placed); n > 0 {
		first, last := placed[0], placed[n-1]
		p.FirstOrderAt, p.LastOrderAt = &first, &last
		p.ReorderIntervalDays = medianGapDays(placed)
	}
	p.Categories, p.SKUs = latest(cats, MaxProfileCategories), latest(skus, MaxProfileSKUs)
	p.OptedOutCategories = keys(optOuts)
	p.Stage = stage(&p, now, opts)
	p.Satisfaction = satisfaction(evs)
	cartProfile(&p, evs)
	return p
}

func stage(p *models.Profile, now time.Time, opts Options) models.Stage {
	if p.OrderCount == 0 {
		return models.StageNew
	}
	since := now.Sub(*p.LastOrderAt)
	switch {
	case opts.LapsedAfter > 0 && since > opts.LapsedAfter:
		return models.StageLapsed
	case opts.AtRiskAfter > 0 && since > opts.AtRiskAfter:
		return models.StageAtRisk
	case p.PositiveOrderCount >= max(opts.LoyalAfter, 3):
		return models.StageLoyal
	case p.PositiveOrderCount >= 2:
		return models.StageSecondPositive
	}
	return models.StageFirstPurchase
}

func medianGapDays(ts []time.Time) float64 {
	if len(ts) < 2 {
		return 0
	}
	gaps := make([]float64, 0, len(ts)-1)
	for i := 1; i < len(ts); i++ {
		gaps = append(gaps, ts[i].Sub(ts[i-1]).Hours()/24)
	}
	slices.Sort(gaps)
	m := len(gaps) / 2
	if len(gaps)%2 == 1 {
		return gaps[m]
	}
	return (gaps[m-1] + gaps[m]) / 2
}

// The profile keeps what the customer bought most recently, up to these
// many SKUs and categories, so that it stays a small document however much a
// wholesale customer orders (the journey keeps everything).
const (
	MaxProfileSKUs       = 1000
	MaxProfileCategories = 200
)

// latest returns, sorted, the n names of m bought most recently (the highest
// order index; ties by name, so the result does not depend on map order).
func latest(m map[string]int, n int) []string {
	out := make([]string, 0, min(len(m), n))
	for k := range m {
		out = append(out, k)
	}
	if len(out) > n {
		slices.SortFunc(out, func(a, b string) int {
			if m[a] != m[b] {
				return m[b] - m[a]
			}
			return strings.Compare(a, b)
		})
		out = out[:n]
	}
	slices.Sort(out)
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// StagesAt returns the customer's stage at each of the ascending moments
// ats, as Build(the events before at, at).Stage derives it, and the orders
// as Orders(events) folds them, in one pass over events (which Sort has put
// in order): the orders are folded as the events come, and each moment only
// counts them. A moment before the first event gets "" (not a customer
// yet).
func StagesAt(events []models.Event, ats []time.Time, opts Options) ([]models.Stage, []*Order) {
	out := make([]models.Stage, len(ats))
	byID := map[string]*Order{}
	var orders []*Order
	k := 0
	fold := func(until int) {
		for ; k < until; k++ {
			orders = foldOrder(byID, orders, &events[k])
		}
	}
	for i, at := range ats {
		until := k
		for until < len(events) && events[until].OccurredAt().Before(at) {
			until++
		}
		fold(until)
		if k == 0 {
			continue
		}
		var p models.Profile
		for _, o := range orders {
			if o.Cancelled || o.Test {
				continue // as Build: not a sale
			}
			p.OrderCount++
			if o.Positive(at, opts.DeliveryAllowance) {
				p.PositiveOrderCount++
			}
			if p.LastOrderAt == nil || o.PlacedAt.After(*p.LastOrderAt) {
				p.LastOrderAt = &o.PlacedAt
			}
		}
		out[i] = stage(&p, at, opts)
	}
	fold(len(events))
	slices.SortStableFunc(orders, func(a, b *Order) int { return a.PlacedAt.Compare(b.PlacedAt) })
	return out, orders
}
