package rules

import (
	"math"
	"time"

	"github.com/treue/treue/models"
)

// Env is what a rule's expressions see. Field names are the expr names in
// the rules file: event, order, item, shipment, customer, catalog, defaults,
// pending (cancel conditions only) and now. Times are UTC, the zero time when
// unknown; amounts are in cents (…_cents) or currency units (total).
//
// Functions: days(n) and hours(n) make a duration; tier(points) names the
// tier a points balance reaches.
type Env struct {
	Event    *EventEnv          `expr:"event"`
	Order    *OrderEnv          `expr:"order"`
	Item     *ItemEnv           `expr:"item"`
	Shipment *ShipmentEnv       `expr:"shipment"`
	Customer *CustomerEnv       `expr:"customer"`
	Catalog  map[string]Product `expr:"catalog"`
	Defaults *DefaultsEnv       `expr:"defaults"`
	Pending  *PendingEnv        `expr:"pending"`
	Now      time.Time          `expr:"now"`

	// Complements is complements(item or SKU): complements.go. Its
	// signature is one expr calls without reflection.
	Complements func(any) []any `expr:"complements"`
	Cart        *CartEnv        `expr:"cart"`
}

// EventEnv is the triggering event. For a daily scan its type is "daily_scan".
type EventEnv struct {
	Type string    `expr:"type"`
	ID   int64     `expr:"id"`
	At   time.Time `expr:"at"`
	// Items are the event's own lines: the returned lines of a return, the
	// refunded lines of a refund, the order's lines otherwise.
	Items           []ItemEnv `expr:"items"`
	ReturnReason    string    `expr:"return_reason"`
	RefundCents     int64     `expr:"refund_cents"`
	ReviewRating    int       `expr:"review_rating"`
	ReviewSKU       string    `expr:"review_sku"`
	ComplaintReason string    `expr:"complaint_reason"`
	OptOutCategory  string    `expr:"opt_out_category"`
	ConsentChannel  string    `expr:"consent_channel"`
	// Satisfaction signals: the survey's kind (nps, csat) and score (-1
	// without a survey), the complaint's id.
	SurveyKind  string `expr:"survey_kind"`
	SurveyScore int    `expr:"survey_score"`
	ComplaintID string `expr:"complaint_id"`
	// Stock is a back-in-stock event's SKU, restock and queue (stock.go).
	Stock StockEnv `expr:"stock"`
}

// OrderEnv is the event's order as known so far (Input.Order merged with the event).
type OrderEnv struct {
	ID                 string    `expr:"id"`
	Number             string    `expr:"number"`
	PlacedAt           time.Time `expr:"placed_at"`
	PaidAt             time.Time `expr:"paid_at"`
	ShippedAt          time.Time `expr:"shipped_at"`
	PromisedDeliveryAt time.Time `expr:"promised_delivery_at"`
	DeliveredAt        time.Time `expr:"delivered_at"`
	Currency           string    `expr:"currency"`
	TotalCents         int64     `expr:"total_cents"`
	Total              float64   `expr:"total"`
	// Points is what the order earns at points.per_currency_unit.
	Points     int64     `expr:"points"`
	Items      []ItemEnv `expr:"items"`
	SKUs       []string  `expr:"skus"`
	Categories []string  `expr:"categories"`
	Coupon     string    `expr:"coupon"`
	// HandlingTime is shipped_at − placed_at, zero while either is unknown.
	HandlingTime time.Duration `expr:"handling_time"`
	// DeliveryDelay is delivered_at − promised_delivery_at (negative when
	// early), zero while either is unknown.
	DeliveryDelay time.Duration `expr:"delivery_delay"`
}

// ItemEnv is one line, enriched from the catalog.
type ItemEnv struct {
	SKU            string `expr:"sku"`
	ProductID      string `expr:"product_id"`
	Name           string `expr:"name"`
	Category       string `expr:"category"`
	Quantity       int    `expr:"quantity"`
	UnitPriceCents int64  `expr:"unit_price_cents"`
	TotalCents     int64  `expr:"total_cents"`
	// Points is the line's share of the order's points (what to revoke when
	// it is returned).
	Points          int64   `expr:"points"`
	ConsumptionDays float64 `expr:"consumption_days"`
	SampleSKU       string  `expr:"sample_sku"`
	InCatalog       bool    `expr:"in_catalog"`
	Index           int     `expr:"index"`
}

// ShipmentEnv is the event's parcel.
type ShipmentEnv struct {
	ID                 string    `expr:"id"`
	Carrier            string    `expr:"carrier"`
	ShippedAt          time.Time `expr:"shipped_at"`
	PromisedDeliveryAt time.Time `expr:"promised_delivery_at"`
	DeliveredAt        time.Time `expr:"delivered_at"`
	// Delay is delivered_at − promised_delivery_at, zero while either is unknown.
	Delay time.Duration `expr:"delay"`
}

// CustomerEnv is the customer's profile after the event was applied.
type CustomerEnv struct {
	ID                  string    `expr:"id"`
	Stage               string    `expr:"stage"`
	OrderCount          int       `expr:"order_count"`
	PositiveOrderCount  int       `expr:"positive_order_count"`
	ReturnCount         int       `expr:"return_count"`
	TotalSpentCents     int64     `expr:"total_spent_cents"`
	FirstOrderAt        time.Time `expr:"first_order_at"`
	LastOrderAt         time.Time `expr:"last_order_at"`
	DaysSinceLastOrder  float64   `expr:"days_since_last_order"`
	ReorderIntervalDays float64   `expr:"reorder_interval_days"`
	Categories          []string  `expr:"categories"`
	SKUs                []string  `expr:"skus"`
	MarketingConsent    bool      `expr:"marketing_consent"`
	OptedOutCategories  []string  `expr:"opted_out_categories"`
	Birthday            string    `expr:"birthday"`
	// PointsBalance is the ledger balance before the actions of this evaluation.
	PointsBalance int64  `expr:"points_balance"`
	Tier          string `expr:"tier"`
	ReferralCode  string `expr:"referral_code"`
	ReferredBy    string `expr:"referred_by"`
	Holdout       bool   `expr:"holdout"`
	// Satisfaction signals: the latest rating, NPS and CSAT (-1 when the
	// customer never gave one) and when, the complaints still open, and
	// whether the shop's unhappy policy (defaults.unhappy) holds at the
	// event's time.
	LastRating     int       `expr:"last_rating"`
	LastRatingAt   time.Time `expr:"last_rating_at"`
	LastNPS        int       `expr:"last_nps"`
	LastNPSAt      time.Time `expr:"last_nps_at"`
	LastCSAT       int       `expr:"last_csat"`
	LastCSATAt     time.Time `expr:"last_csat_at"`
	OpenComplaints int       `expr:"open_complaints"`
	Unhappy        bool      `expr:"unhappy"`

	// Bought and BoughtCategory are customer.bought(sku) and
	// customer.bought_category(category): complements.go.
	Bought         func(string) bool `expr:"bought"`
	BoughtCategory func(string) bool `expr:"bought_category"`
	// Carts (cart.go).
	AbandonedCarts int       `expr:"abandoned_carts"`
	LastCartAt     time.Time `expr:"last_cart_at"`
}

// DefaultsEnv exposes the shop-wide defaults of the rules file.
type DefaultsEnv struct {
	HandlingPromise time.Duration `expr:"handling_promise"`
	Currency        string        `expr:"currency"`
	Timezone        string        `expr:"timezone"`
}

// PendingEnv is a not-yet-sent action a cancel condition is checked against.
type PendingEnv struct {
	ID        int64     `expr:"id"`
	RuleID    string    `expr:"rule_id"`
	Type      string    `expr:"type"`
	DueAt     time.Time `expr:"due_at"`
	SKU       string    `expr:"sku"`
	OrderRef  string    `expr:"order_ref"`
	Category  string    `expr:"category"`
	Marketing bool      `expr:"marketing"`
}

// Product is one catalog entry.
type Product struct {
	SKU      string `expr:"sku" json:"sku"`
	Name     string `expr:"name" json:"name,omitempty"`
	Category string `expr:"category" json:"category,omitempty"`
	// ConsumptionDays is how long one unit lasts.
	ConsumptionDays float64 `expr:"consumption_days" json:"consumption_days,omitempty"`
	// SampleSKU is the free sample that goes with the product.
	SampleSKU string `expr:"sample_sku" json:"sample_sku,omitempty"`
	// Cost is what the product costs the merchant (for a sample: what giving
	// it away costs), for the reports' incentive cost.
	Cost models.Money `expr:"cost" json:"cost,omitempty"`

	// Complements are the SKUs that go with the product, best first.
	Complements []string `expr:"complements" json:"complements,omitempty"`
}

// envBlock holds an Env and everything it points to in one allocation.
type envBlock struct {
	env      Env
	event    EventEnv
	order    OrderEnv
	item     ItemEnv
	shipment ShipmentEnv
	customer CustomerEnv
	pending  PendingEnv
	defaults DefaultsEnv

	owned ownership
	cart  CartEnv
}

// buildEnv builds the environment shared by every rule for one input.
func (s *Set) buildEnv(in *Input, now time.Time) *Env {
	b := &envBlock{}
	e := &in.Event
	env := &b.env
	*env = Env{
		Event: &b.event, Order: &b.order, Item: &b.item, Shipment: &b.shipment,
		Customer: &b.customer, Catalog: s.Catalog, Defaults: &s.defaultsEnv,
		Pending: &b.pending, Now: now,
	}
	if s.defaultsEnv.Currency == "" && in.Shop.Currency != "" {
		b.defaults = s.defaultsEnv
		b.defaults.Currency = in.Shop.Currency
		env.Defaults = &b.defaults
	}
	b.event.Type, b.event.ID = string(e.Type), in.EventID
	if e.Type == "" {
		b.event.Type = DailyScan
		b.event.At = now
	} else {
		b.event.At = e.OccurredAt()
	}
	customerEnv(&b.customer, &in.Profile, now)
	st := in.orderState()
	s.orderEnv(&b.order, &st)
	shipmentEnv(&b.shipment, e.Data.Shipment, &st)
	d := &e.Data
	switch {
	case d.Return != nil:
		b.event.ReturnReason = d.Return.Reason
		b.event.Items = s.itemsEnv(d.Return.Items, &b.order)
	case d.Refund != nil:
		b.event.RefundCents = cents(d.Refund.Amount)
		b.event.Items = s.itemsEnv(d.Refund.Items, &b.order)
	default:
		b.event.Items = b.order.Items
	}
	if d.Review != nil {
		b.event.ReviewRating, b.event.ReviewSKU = d.Review.Rating, d.Review.SKU
	}
	if d.Complaint != nil {
		b.event.ComplaintReason = d.Complaint.Reason
	}
	if d.OptOut != nil {
		b.event.OptOutCategory = d.OptOut.Category
	}
	if d.Consent != nil {
		b.event.ConsentChannel = d.Consent.Channel
	}
	s.satisfactionEnv(b, in)
	s.ownershipEnv(b, &in.Profile)
	stockEnv(&b.event.Stock, d)
	env.Cart = &b.cart
	s.cartEnv(&b.cart, in)
	cartCustomer(&b.customer, &in.Profile)
	return env
}

func customerEnv(c *CustomerEnv, p *models.Profile, now time.Time) {
	*c = CustomerEnv{
		ID: p.PublicID, Stage: string(p.Stage), OrderCount: p.OrderCount,
		PositiveOrderCount: p.PositiveOrderCount, ReturnCount: p.ReturnCount,
		TotalSpentCents: p.TotalSpentCents, ReorderIntervalDays: p.ReorderIntervalDays,
		Categories: p.Categories, SKUs: p.SKUs, MarketingConsent: p.MarketingConsent,
		OptedOutCategories: p.OptedOutCategories, Birthday: p.Birthday,
		PointsBalance: p.PointsBalance, Tier: p.Tier, ReferralCode: p.ReferralCode,
		ReferredBy: p.ReferredBy, Holdout: p.Holdout,
	}
	if p.FirstOrderAt != nil {
		c.FirstOrderAt = p.FirstOrderAt.UTC()
	}
	if p.LastOrderAt != nil {
		c.LastOrderAt = p.LastOrderAt.UTC()
		if d := now.Sub(c.LastOrderAt); d > 0 {
			c.DaysSinceLastOrder = d.Hours() / 24
		}
	}
}

func (s *Set) orderEnv(o *OrderEnv, st *OrderState) {
	*o = OrderEnv{
		ID: st.ID, Number: st.Number, PlacedAt: st.PlacedAt, PaidAt: st.PaidAt,
		ShippedAt: st.ShippedAt, PromisedDeliveryAt: st.PromisedDeliveryAt,
		DeliveredAt: st.DeliveredAt, Currency: st.Currency, Coupon: st.Coupon,
	}
	o.TotalCents = cents(st.Total)
	var sum int64
	o.Items = make([]ItemEnv, len(st.Items))
	for i := range st.Items {
		o.Items[i] = s.itemEnv(&st.Items[i], i)
		sum += o.Items[i].TotalCents
	}
	if st.Total == "" {
		o.TotalCents = sum
	}
	o.Total = float64(o.TotalCents) / 100
	o.Points = s.pointsFor(o.TotalCents)
	for i := range o.Items {
		o.Items[i].Points = linePoints(o.Points, o.Items[i].TotalCents, sum)
	}
	if len(o.Items) > 0 {
		o.SKUs = make([]string, 0, len(o.Items))
		for i := range o.Items {
			o.SKUs = append(o.SKUs, o.Items[i].SKU)
			if c := o.Items[i].Category; c != "" && !contains(o.Categories, c) {
				o.Categories = append(o.Categories, c)
			}
		}
	}
	if !st.ShippedAt.IsZero() && !st.PlacedAt.IsZero() {
		o.HandlingTime = st.ShippedAt.Sub(st.PlacedAt)
	}
	if !st.DeliveredAt.IsZero() && !st.PromisedDeliveryAt.IsZero() {
		o.DeliveryDelay = st.DeliveredAt.Sub(st.PromisedDeliveryAt)
	}
}

// itemsEnv enriches returned or refunded lines; a line without a price takes
// it, and its points share, from the same SKU in the order.
func (s *Set) itemsEnv(items []models.LineItem, o *OrderEnv) []ItemEnv {
	out := make([]ItemEnv, len(items))
	for i := range items {
		it := s.itemEnv(&items[i], i)
		for j := range o.Items {
			oi := &o.Items[j]
			if oi.SKU != it.SKU || oi.Quantity <= 0 {
				continue
			}
			if it.UnitPriceCents == 0 {
				it.UnitPriceCents = oi.UnitPriceCents
				it.TotalCents = it.UnitPriceCents * int64(it.Quantity)
			}
			if it.Quantity >= oi.Quantity {
				it.Points = oi.Points
			} else {
				it.Points = oi.Points * int64(it.Quantity) / int64(oi.Quantity)
			}
			break
		}
		out[i] = it
	}
	return out
}

func (s *Set) itemEnv(li *models.LineItem, index int) ItemEnv {
	it := ItemEnv{
		SKU: li.SKU, ProductID: li.ProductID, Name: li.Name, Category: li.Category,
		Quantity: li.Quantity, Index: index,
	}
	it.UnitPriceCents = cents(li.UnitPrice)
	it.TotalCents = it.UnitPriceCents * int64(li.Quantity)
	if p, ok := s.Catalog[li.SKU]; ok {
		it.InCatalog = true
		it.ConsumptionDays, it.SampleSKU = p.ConsumptionDays, p.SampleSKU
		if p.Category != "" {
			it.Category = p.Category
		}
		if it.Name == "" {
			it.Name = p.Name
		}
	}
	return it
}

func shipmentEnv(e *ShipmentEnv, sh *models.Shipment, st *OrderState) {
	if sh != nil {
		e.ID, e.Carrier = sh.ID, sh.Carrier
		e.ShippedAt = timeOf(sh.ShippedAt)
		e.PromisedDeliveryAt = timeOf(sh.PromisedDeliveryAt)
		e.DeliveredAt = timeOf(sh.DeliveredAt)
	}
	// A delivery event often names only the delivery; the order knows the rest.
	if e.ShippedAt.IsZero() {
		e.ShippedAt = st.ShippedAt
	}
	if e.PromisedDeliveryAt.IsZero() {
		e.PromisedDeliveryAt = st.PromisedDeliveryAt
	}
	if !e.DeliveredAt.IsZero() && !e.PromisedDeliveryAt.IsZero() {
		e.Delay = e.DeliveredAt.Sub(e.PromisedDeliveryAt)
	}
}

// pointsFor is the points a payment of cents earns, rounded down.
func (s *Set) pointsFor(cents int64) int64 {
	if s.Points.PerCurrencyUnit <= 0 || cents <= 0 {
		return 0
	}
	// The epsilon keeps 19.99 × 100 from landing on 1998.9999….
	return int64(math.Floor(float64(cents)*s.Points.PerCurrencyUnit/100 + 1e-9))
}

// linePoints is a line's share of the order's points, in proportion to its
// value, so that returning every line revokes no more than was awarded.
func linePoints(orderPoints, lineCents, sumCents int64) int64 {
	if sumCents <= 0 || lineCents <= 0 {
		return 0
	}
	return orderPoints * lineCents / sumCents
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// cents is models.Money.Cents with a fast path for the common "12.34" form
// (the regexp in Valid dominated evaluation time); anything else, and
// malformed amounts (0), go through Money.Cents.
func cents(m models.Money) int64 {
	s := string(m)
	if s == "" {
		return 0
	}
	var whole, frac int64
	i, digits := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		whole = whole*10 + int64(s[i]-'0')
		digits++
	}
	if digits > 0 && digits <= 15 {
		switch rest := s[i:]; {
		case rest == "":
			return whole * 100
		case len(rest) == 3 && rest[0] == '.' && isDigit(rest[1]) && isDigit(rest[2]):
			frac = int64(rest[1]-'0')*10 + int64(rest[2]-'0')
			return whole*100 + frac
		case len(rest) == 2 && rest[0] == '.' && isDigit(rest[1]):
			return whole*100 + int64(rest[1]-'0')*10
		}
	}
	c, _ := m.Cents()
	return c
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
