package rules

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/treue/treue/models"
)

// This file is the shop-wide incentive budget: what an action costs, and
// the calendar month its cost counts in. The engine only prices actions;
// whether a month's budget still holds an action is decided where the
// shop's committed spend is known, in the planner (webhooks/process).

type budgetSpec struct {
	Pos
	Monthly        text       `yaml:"monthly"`
	Currency       text       `yaml:"currency"`
	RedemptionRate *numberVal `yaml:"redemption_rate"`
}

// Budget is what the shop may spend on incentives in one calendar month
// (in the rules file's time zone): promo codes, samples and points.
type Budget struct {
	MonthlyCents int64  `json:"monthly_cents"`
	Currency     string `json:"currency"`
	// RedemptionBasisPoints is the share of promo codes expected to be
	// redeemed, in hundredths of a percent (3000 = 0.3); 0 prices a code
	// at its face value.
	RedemptionBasisPoints int64 `json:"redemption_basis_points,omitempty"`
}

// Monthly is the budget as an amount.
func (b *Budget) Monthly() models.Money { return models.FormatCents(b.MonthlyCents) }

func (c *compiler) budget(b *budgetSpec) {
	if b == nil {
		return
	}
	out := &Budget{}
	switch cents, ok := models.Money(b.Monthly.Value).Cents(); {
	case b.Monthly.Value == "":
		c.errorf(b.Pos, "budget needs monthly, an amount such as \"2000.00\"")
	case !ok || cents <= 0:
		c.errorf(b.Monthly.Pos, "budget monthly must be an amount above zero such as \"2000.00\", got %q", b.Monthly.Value)
	default:
		out.MonthlyCents = cents
	}
	switch v := b.Currency.Value; {
	case v == "":
		c.errorf(b.Pos, "budget needs currency, an ISO 4217 code such as EUR")
	case len(v) != 3 || strings.ToUpper(v) != v:
		c.errorf(b.Currency.Pos, "budget currency must be an ISO 4217 code such as EUR, got %q", v)
	case c.set.Defaults.Currency != "" && v != c.set.Defaults.Currency:
		c.errorf(b.Currency.Pos, "budget currency %s differs from defaults.currency %s: costs are in the shop's currency", v, c.set.Defaults.Currency)
	default:
		out.Currency = v
	}
	if r := b.RedemptionRate; r != nil {
		if r.Value <= 0 || r.Value > 1 {
			c.errorf(r.Pos, "budget redemption_rate must be above 0 and at most 1 (0.3: three codes in ten are redeemed), got %v", r.Value)
		}
		out.RedemptionBasisPoints = int64(math.Round(r.Value * 10000))
	}
	c.set.Budget = out
}

// BudgetMonth is the calendar month, in the rules file's time zone, whose
// budget an action due at t counts against: its name ("2026-12") and its
// bounds [from, to) in UTC.
func (s *Set) BudgetMonth(t time.Time) (name string, from, to time.Time) {
	return Month(t, s.loc)
}

// Month is the calendar month in loc that holds t: its name ("2026-12")
// and its bounds [from, to) in UTC.
func Month(t time.Time, loc *time.Location) (name string, from, to time.Time) {
	l := t.In(loc)
	start := time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, loc)
	return start.Format("2006-01"), start.UTC(), start.AddDate(0, 1, 0).UTC()
}

// SampleCost is what giving away a sample of sku costs: the catalog's cost
// of the product, or of its sample; ok is false where the catalog does not say.
func (s *Set) SampleCost(sku string) (cost models.Money, ok bool) {
	p, ok := s.Catalog[sku]
	if ok && p.Cost == "" && p.SampleSKU != "" {
		p, ok = s.Catalog[p.SampleSKU]
	}
	return p.Cost, ok && p.Cost != ""
}

// Cost is what an action commits the merchant to, in cents of the shop's
// currency: a promo code its amount, or its percent of basisCents (the
// order it answers, else the customer's average order), times the
// budget's redemption rate; a sample its catalog cost; points at
// points.value. Other actions cost nothing.
func (s *Set) Cost(typ models.ActionType, sku string, params map[string]any, basisCents int64) int64 {
	switch typ {
	case models.ActionPromoCode:
		var face int64
		if v, ok := params["amount"]; ok {
			face = amountCents(v)
		} else if pct, ok := number(params["percent"]); ok {
			face = int64(math.Round(float64(basisCents) * pct / 100))
		}
		if s.Budget != nil && s.Budget.RedemptionBasisPoints > 0 {
			face = (face*s.Budget.RedemptionBasisPoints + 5000) / 10000
		}
		return max(face, 0)
	case models.ActionSampleGift:
		if c, ok := s.SampleCost(sku); ok {
			cents, _ := c.Cents()
			return max(cents, 0)
		}
	case models.ActionPointsAward:
		n, _ := number(params["points"])
		if c, ok := PointsCost(int64(math.Abs(n)), s.Points.Value); ok {
			return c
		}
	}
	return 0
}

// PointsCost is what points cost at value (what one point costs, up to
// four decimals: a point is often worth less than a cent), in cents.
func PointsCost(points int64, value models.Money) (int64, bool) {
	if value == "" || !value.Valid() {
		return 0, false
	}
	whole, frac, _ := strings.Cut(strings.TrimPrefix(string(value), "-"), ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	f, _ := strconv.ParseInt((frac + "0000")[:4], 10, 64)
	per := w*10000 + f
	if strings.HasPrefix(string(value), "-") {
		per = -per
	}
	return int64(math.Round(float64(points*per) / 100)), true
}

// amountCents reads a code's amount: a decimal string or a number.
func amountCents(v any) int64 {
	if s, ok := v.(string); ok {
		c, _ := models.Money(s).Cents()
		return c
	}
	if f, ok := number(v); ok {
		return int64(math.Round(f * 100))
	}
	return 0
}

// number reads a param that YAML or an expression made a number.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// costs prices the planned actions, suppressed ones too (what the budget,
// or another guardrail, held back is reported).
func (ev *evaluation) costs() {
	basis := ev.env.Order.TotalCents
	if c := ev.env.Customer; basis <= 0 && c.PositiveOrderCount > 0 {
		basis = c.TotalSpentCents / int64(c.PositiveOrderCount)
	}
	for i := range ev.res.Planned {
		p := &ev.res.Planned[i]
		p.CostCents = ev.s.Cost(p.Type, p.SKU, p.Params, basis)
	}
}

// MayCost reports whether an event of one of types (none: the daily scan)
// triggers an enabled rule whose actions can cost something, so that the
// caller locks the shop's budget before anything else.
func (s *Set) MayCost(types []models.EventType) bool {
	costs := func(r *Rule) bool {
		switch r.Action {
		case models.ActionPromoCode, models.ActionSampleGift:
			return true
		case models.ActionPointsAward:
			return s.Points.Value != ""
		}
		return false
	}
	if len(types) == 0 {
		return slices.ContainsFunc(s.scan, costs)
	}
	for _, t := range types {
		if slices.ContainsFunc(s.byEvent[t], costs) {
			return true
		}
	}
	return false
}
