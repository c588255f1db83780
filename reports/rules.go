// Package reports computes what merchants read about their rules and their
// customers: per rule, the outcomes of its actions against the holdout
// group; per shop, the loyalty figures. Reports are computed from the
// stored journeys each time they are asked for, so a late or out-of-order
// event is counted as soon as it is stored.
package reports

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/rules"
)

const day = 24 * time.Hour

// DefaultWindows is how long after an action an outcome counts for it, by
// action type. A promo code's window is its validity (params.valid_for)
// where it has one.
var DefaultWindows = map[models.ActionType]time.Duration{
	models.ActionReorderReminder: 14 * day,
	models.ActionPromoCode:       30 * day,
	models.ActionSampleGift:      60 * day,
	models.ActionReviewRequest:   14 * day,
	models.ActionPointsAward:     30 * day,
	models.ActionPointsRevoke:    30 * day,
	models.ActionTagCustomer:     30 * day,
	models.ActionNotify:          14 * day,
}

// DefaultMinSample is how many customers each group needs before a rate or
// an uplift is reported at all.
const DefaultMinSample = 30

// Confidence is the level of every interval reported.
const Confidence = 0.95

// Options tune a report.
type Options struct {
	// Windows override DefaultWindows per action type.
	Windows map[models.ActionType]time.Duration
	// MinSample per group; 0 means DefaultMinSample.
	MinSample int
	// Now is when the report is made: exposures whose window is still open
	// are not counted yet.
	Now time.Time
	// SampleCost is what giving away a sample of sku costs (the catalog's
	// cost); ok is false where the catalog does not say.
	SampleCost func(sku string) (cost models.Money, ok bool)
	// PointValue is what one point costs ("" : not known).
	PointValue models.Money
}

func (o *Options) window(a *touch) time.Duration {
	if a.validFor > 0 {
		return a.validFor
	}
	if w, ok := o.Windows[a.typ]; ok {
		return w
	}
	if w, ok := DefaultWindows[a.typ]; ok {
		return w
	}
	return 30 * day
}

func (o *Options) maxWindow() time.Duration {
	m := 60 * day
	for _, w := range o.Windows {
		m = max(m, w)
	}
	for _, w := range DefaultWindows {
		m = max(m, w)
	}
	return m
}

// Source is what a rules report reads.
type Source interface {
	ReportActions(ctx context.Context, shopID int64, from, to time.Time, fn func([]store.ReportAction) error) error
	ReportEvents(ctx context.Context, shopID int64, from, to time.Time, fn func([]store.ReportEvent) error) error
}

// Group is one side of a rule's comparison. Every rate comes with the
// counts it is made of; Rate is nil below the minimum sample.
type Group struct {
	Customers int      `json:"customers"`
	Converted int      `json:"converted"`
	Rate      *float64 `json:"rate"`
	// Revenue is the net revenue (after refunds) of the orders attributed
	// to the group's actions.
	Revenue      string `json:"revenue"`
	revenueCents int64
	// Actions counts the group's actions in the period; Sent those the shop
	// confirmed (treatment only).
	Actions int `json:"actions"`
	Sent    int `json:"sent"`
}

// Uplift compares treatment with holdout.
type Uplift struct {
	// Absolute is treatment rate minus holdout rate, with its interval.
	Absolute float64 `json:"absolute"`
	CILow    float64 `json:"ci_low"`
	CIHigh   float64 `json:"ci_high"`
	// Relative is Absolute over the holdout rate; nil when that is 0.
	Relative *float64 `json:"relative"`
	// Significant: the interval excludes 0.
	Significant bool `json:"significant"`
}

// Cost is what a rule's incentives cost. A value is nil where Treue does
// not know it (a sample without a catalog cost, points without a value).
type Cost struct {
	// CodeValue is the face value of the rule's promo codes that were
	// redeemed: the amount off, or the percentage of the order.
	CodeValue     string `json:"code_value"`
	codeCents     int64
	CodesRedeemed int `json:"codes_redeemed"`
	SamplesSent   int `json:"samples_sent"`
	// SampleValue is the catalog cost of the samples sent.
	SampleValue   *string `json:"sample_value"`
	sampleCents   int64
	samplesKnown  int
	PointsAwarded int64 `json:"points_awarded"`
	// PointsValue is the points awarded at points.value.
	PointsValue *string `json:"points_value"`
	// Total adds what is known: codes, samples, points.
	Total string `json:"total"`
}

// Week counts the actions sent in one ISO week.
type Week struct {
	Week string `json:"week"` // 2026-W05
	Sent int    `json:"sent"`
}

// RuleReport is one rule's outcome.
type RuleReport struct {
	RuleID     string  `json:"rule_id"`
	ActionType string  `json:"action_type"`
	WindowDays float64 `json:"window_days"`
	// Conversion names the outcome the rule is judged by: "order" (the
	// customer ordered within the window), or "review" for review requests.
	Conversion string `json:"conversion"`
	// Marketing: a marketing rule, whose actions are touches and which has
	// a holdout group; a service rule's actions are only counted.
	Marketing bool  `json:"marketing"`
	Treatment Group `json:"treatment"`
	// Holdout is nil for a rule without a holdout group (service rules, or
	// holdout_percent 0).
	Holdout    *Group `json:"holdout"`
	EnoughData bool   `json:"enough_data"`
	// Note says in words why figures are missing.
	Note               string  `json:"note,omitempty"`
	Uplift             *Uplift `json:"uplift"`
	IncrementalRevenue *string `json:"incremental_revenue"`
	// Outcomes counts the outcomes attributed to the rule's actions (both
	// groups): order, code_redeemed, review.
	Outcomes map[string]int `json:"outcomes"`
	Cost     Cost           `json:"cost"`
	// Maturing counts customers whose window is still open at the time of
	// the report: they are counted once it has closed.
	Maturing     int    `json:"maturing"`
	SendsPerWeek []Week `json:"sends_per_week"`
}

// RulesReport is the report for one shop and period.
type RulesReport struct {
	Shop       string       `json:"shop"`
	From       string       `json:"from"`
	To         string       `json:"to"`
	Currency   string       `json:"currency"`
	MinSample  int          `json:"min_sample"`
	Confidence float64      `json:"confidence"`
	Rules      []RuleReport `json:"rules"`
}

// touch is an action as attribution sees it.
type touch struct {
	id, customer int64
	rule         string
	typ          models.ActionType
	holdout      bool
	sent         bool
	due          time.Time
	code, sku    string
	marketing    bool
	validFor     time.Duration
	params       map[string]any
	counted      bool // due in the period
}

type order struct {
	ref                   string
	customer              int64
	placed                time.Time
	total, refunded       int64
	coupon                string
	test, cancelled, seen bool
}

// Rules computes the rules report of shop for [from, to).
//
// Exposure: every action a rule planned in the period is an exposure of
// its customer, whatever became of it (sent, suppressed by consent or a
// frequency cap, cancelled): the comparison is intent-to-treat, so no
// guardrail can bias it. Actions held back because the customer is in the
// holdout group (suppressed with reason "holdout") are the control.
// Each side counts customers, once per rule, dated by the due time of the
// first action; a customer counts once their window has closed.
//
// Attribution: an order (not cancelled, not a test order) placed within an
// action's window belongs to at most one action: the one whose promo code
// it redeems, else the last action due before it (last touch), holdout
// actions included, so that treatment and control are attributed alike. A
// review belongs to the last review request before it. Revenue is net of
// the order's refunds.
func Rules(ctx context.Context, src Source, shop *models.Shop, from, to time.Time, opt Options) (*RulesReport, error) {
	if opt.MinSample <= 0 {
		opt.MinSample = DefaultMinSample
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	loc := shop.Location()
	rep := &RulesReport{Shop: shop.Key, From: from.In(loc).Format(time.DateOnly), To: to.In(loc).Format(time.DateOnly),
		Currency: shop.Currency, MinSample: opt.MinSample, Confidence: Confidence, Rules: []RuleReport{}}
	maxW := opt.maxWindow()

	// Earlier actions compete for the period's orders as last touches.
	byCustomer := map[int64][]*touch{}
	var touches []*touch
	err := src.ReportActions(ctx, shop.ID, from.Add(-maxW), to, func(rows []store.ReportAction) error {
		for i := range rows {
			t, err := newTouch(&rows[i])
			if err != nil {
				return err
			}
			t.counted = !t.due.Before(from)
			// Only marketing actions are touches: a points award or a note
			// to support says nothing to the customer about ordering again.
			if t.marketing {
				byCustomer[t.customer] = append(byCustomer[t.customer], t)
			}
			touches = append(touches, t)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}

	orders := map[string]*order{}
	var reviews []store.ReportEvent
	until := to.Add(maxW)
	if now := opt.Now.Add(time.Second); now.Before(until) {
		until = now
	}
	err = src.ReportEvents(ctx, shop.ID, from.Add(-maxW), until, func(rows []store.ReportEvent) error {
		for i := range rows {
			e := &rows[i]
			if e.Type == string(models.ReviewSubmitted) {
				reviews = append(reviews, *e)
				continue
			}
			o := orders[e.OrderRef]
			if o == nil {
				o = &order{ref: e.OrderRef, customer: e.CustomerID}
				orders[e.OrderRef] = o
			}
			switch models.EventType(e.Type) {
			case models.OrderPlaced:
				o.seen, o.placed, o.coupon, o.test = true, e.OccurredAt, e.Coupon, e.Test
				o.total, _ = models.Money(e.Total).Cents()
				if rep.Currency == "" {
					rep.Currency = e.Currency
				}
			case models.OrderCancelled:
				o.cancelled = true
			case models.RefundIssued:
				c, _ := models.Money(e.Refund).Cents()
				o.refunded += c
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}

	// Attribution.
	type outcome struct {
		kind    string
		revenue int64
		code    bool
		at      time.Time
	}
	outcomes := map[*touch][]outcome{}
	for _, o := range orders {
		if !o.seen || o.cancelled || o.test {
			continue
		}
		if t := attribute(byCustomer[o.customer], o.placed, &opt, func(t *touch) bool {
			return t.code != "" && strings.EqualFold(t.code, o.coupon)
		}, nil); t != nil {
			outcomes[t] = append(outcomes[t], outcome{kind: "order", revenue: max(0, o.total-o.refunded),
				code: t.code != "" && strings.EqualFold(t.code, o.coupon), at: o.placed})
		}
	}
	for _, r := range reviews {
		if t := attribute(byCustomer[r.CustomerID], r.OccurredAt, &opt, nil, func(t *touch) bool { return t.typ == models.ActionReviewRequest }); t != nil {
			outcomes[t] = append(outcomes[t], outcome{kind: "review", at: r.OccurredAt})
		}
	}

	// Per rule, per customer.
	type side struct {
		holdout, converted, matured bool
		revenue                     int64
		first                       time.Time
	}
	type ruleAcc struct {
		rep       RuleReport
		customers map[int64]*side
		weeks     map[string]int
		sawHold   bool
	}
	rules := map[string]*ruleAcc{}
	var ruleOrder []string
	for _, t := range touches {
		if !t.counted {
			continue
		}
		acc := rules[t.rule]
		if acc == nil {
			acc = &ruleAcc{customers: map[int64]*side{}, weeks: map[string]int{},
				rep: RuleReport{RuleID: t.rule, ActionType: string(t.typ), WindowDays: opt.window(t).Hours() / 24,
					Conversion: conversionOf(t.typ), Marketing: t.marketing, Outcomes: map[string]int{"order": 0, "code_redeemed": 0, "review": 0}}}
			rules[t.rule] = acc
			ruleOrder = append(ruleOrder, t.rule)
		}
		if t.holdout {
			acc.sawHold = true
		}
		g := &acc.rep.Treatment
		if t.holdout {
			if acc.rep.Holdout == nil {
				acc.rep.Holdout = &Group{}
			}
			g = acc.rep.Holdout
		}
		g.Actions++
		if t.sent {
			g.Sent++
			y, w := t.due.In(loc).ISOWeek()
			acc.weeks[fmt.Sprintf("%04d-W%02d", y, w)]++
			switch t.typ {
			case models.ActionSampleGift:
				acc.rep.Cost.SamplesSent++
				if opt.SampleCost != nil {
					if c, ok := opt.SampleCost(t.sku); ok {
						cents, _ := c.Cents()
						acc.rep.Cost.sampleCents += cents
						acc.rep.Cost.samplesKnown++
					}
				}
			case models.ActionPointsAward:
				acc.rep.Cost.PointsAwarded += intParam(t.params, "points")
			}
		}
		s := acc.customers[t.customer]
		if s == nil {
			s = &side{holdout: t.holdout, first: t.due}
			acc.customers[t.customer] = s
		}
		if t.due.Before(s.first) {
			s.first, s.holdout = t.due, t.holdout
		}
		s.matured = !s.first.Add(opt.window(t)).After(opt.Now)
		for _, oc := range outcomes[t] {
			acc.rep.Outcomes[oc.kind]++
			if oc.code {
				acc.rep.Outcomes["code_redeemed"]++
				acc.rep.Cost.CodesRedeemed++
				acc.rep.Cost.codeCents += codeValue(t.params, oc.revenue)
			}
			if oc.kind == acc.rep.Conversion {
				s.converted = true
			}
			if oc.kind == "order" {
				s.revenue += oc.revenue
			}
		}
	}
	for _, id := range ruleOrder {
		acc := rules[id]
		r := &acc.rep
		if r.Holdout == nil && acc.sawHold {
			r.Holdout = &Group{}
		}
		for _, s := range acc.customers {
			if !s.matured {
				r.Maturing++
				continue
			}
			g := &r.Treatment
			if s.holdout {
				g = r.Holdout
			}
			g.Customers++
			g.revenueCents += s.revenue
			if s.converted {
				g.Converted++
			}
		}
		finish(r, opt.MinSample)
		finishCost(&r.Cost, opt.PointValue)
		for w, n := range acc.weeks {
			r.SendsPerWeek = append(r.SendsPerWeek, Week{w, n})
		}
		slices.SortFunc(r.SendsPerWeek, func(a, b Week) int { return cmp.Compare(a.Week, b.Week) })
		if r.SendsPerWeek == nil {
			r.SendsPerWeek = []Week{}
		}
		rep.Rules = append(rep.Rules, *r)
	}
	slices.SortFunc(rep.Rules, func(a, b RuleReport) int { return cmp.Compare(a.RuleID, b.RuleID) })
	return rep, nil
}

// finishCost writes a rule's cost figures.
func finishCost(c *Cost, pointValue models.Money) {
	c.CodeValue = string(models.FormatCents(c.codeCents))
	total := c.codeCents
	if c.SamplesSent > 0 && c.samplesKnown == c.SamplesSent {
		v := string(models.FormatCents(c.sampleCents))
		c.SampleValue = &v
		total += c.sampleCents
	}
	if c.PointsAwarded != 0 {
		if cents, ok := rules.PointsCost(c.PointsAwarded, pointValue); ok {
			v := string(models.FormatCents(cents))
			c.PointsValue = &v
			total += cents
		}
	}
	c.Total = string(models.FormatCents(total))
}

// finish fills in rates, the uplift and the note of a rule's counts.
func finish(r *RuleReport, minSample int) {
	rate := func(g *Group) {
		g.Revenue = string(models.FormatCents(g.revenueCents))
		if g.Customers >= minSample {
			v := float64(g.Converted) / float64(g.Customers)
			g.Rate = &v
		}
	}
	rate(&r.Treatment)
	if r.Holdout == nil {
		r.Note = "no holdout group: holdout_percent is 0, so the rule's effect cannot be measured"
		if !r.Marketing {
			r.Note = "service rule: no holdout group and no attribution (its actions are not marketing touches), so only its actions are counted"
		}
		return
	}
	rate(r.Holdout)
	t, h := r.Treatment, *r.Holdout
	if t.Customers < minSample || h.Customers < minSample {
		r.Note = fmt.Sprintf("not enough data: %d treatment and %d holdout customers, %d each needed", t.Customers, h.Customers, minSample)
		return
	}
	r.EnoughData = true
	lo, hi := diffInterval(t.Converted, t.Customers, h.Converted, h.Customers, Confidence)
	pt, ph := *t.Rate, *h.Rate
	u := &Uplift{Absolute: pt - ph, CILow: lo, CIHigh: hi, Significant: lo > 0 || hi < 0}
	if ph > 0 {
		rel := (pt - ph) / ph
		u.Relative = &rel
	}
	r.Uplift = u
	// Revenue per customer above the holdout's, over the treated customers.
	inc := (float64(t.revenueCents)/float64(t.Customers) - float64(h.revenueCents)/float64(h.Customers)) * float64(t.Customers)
	s := string(models.FormatCents(int64(math.Round(inc))))
	r.IncrementalRevenue = &s
}

// attribute picks the action an outcome at `at` belongs to: among the
// customer's actions whose window holds it, the one direct(t) names, else
// the last one due (ties: the later action). only narrows the candidates.
func attribute(ts []*touch, at time.Time, opt *Options, direct, only func(*touch) bool) *touch {
	var last *touch
	for _, t := range ts {
		if only != nil && !only(t) {
			continue
		}
		if at.Before(t.due) || !at.Before(t.due.Add(opt.window(t))) {
			continue
		}
		if direct != nil && direct(t) {
			return t
		}
		if last == nil || t.due.After(last.due) || (t.due.Equal(last.due) && t.id > last.id) {
			last = t
		}
	}
	return last
}

func conversionOf(t models.ActionType) string {
	if t == models.ActionReviewRequest {
		return "review"
	}
	return "order"
}

func newTouch(a *store.ReportAction) (*touch, error) {
	t := &touch{id: a.ID, customer: a.CustomerID, rule: a.RuleID, typ: models.ActionType(a.Type), due: a.DueAt,
		sent: a.Status == string(models.ActionSent), sku: a.SKU, marketing: a.Marketing}
	t.holdout = a.Holdout
	if a.ExternalRef != nil {
		t.code = strings.TrimSpace(*a.ExternalRef)
	}
	// Only codes (validity, value) and points (how many) carry params the
	// report reads; decoding the rest would cost a third of a long report.
	switch t.typ {
	case models.ActionPromoCode, models.ActionPointsAward:
	default:
		return t, nil
	}
	if a.Params != "" && a.Params != "{}" {
		if err := json.Unmarshal([]byte(a.Params), &t.params); err != nil {
			return nil, fmt.Errorf("action %d params: %w", a.ID, err)
		}
		if v, ok := t.params["valid_for"].(string); ok {
			t.validFor = parseDays(v)
		}
	}
	return t, nil
}

// parseDays reads a validity such as "30d", "12h" or "90m".
func parseDays(s string) time.Duration {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if d, err := strconv.ParseFloat(n, 64); err == nil && d > 0 {
			return time.Duration(d * float64(day))
		}
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0
	}
	return d
}

func intParam(p map[string]any, k string) int64 {
	switch v := p[k].(type) {
	case float64:
		return int64(v)
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// codeValue is what a redeemed code took off an order of orderCents:
// params.amount, or params.percent of the order.
func codeValue(p map[string]any, orderCents int64) int64 {
	switch v := p["amount"].(type) {
	case string:
		if c, ok := models.Money(v).Cents(); ok {
			return c
		}
	case float64:
		return int64(math.Round(v * 100))
	}
	if v, ok := p["percent"].(float64); ok {
		return int64(math.Round(float64(orderCents) * v / (100 - min(v, 99))))
	}
	return 0
}

// LastTouch returns the action an outcome at `at` belongs to by last touch:
// the last of actions due at or before `at` whose window (windows, else
// DefaultWindows) still holds it, among those only admits (nil: all).
// The processor counts outcomes with it as they arrive; the report
// recomputes them over the stored journeys, codes included.
func LastTouch(actions []models.Action, at time.Time, windows map[models.ActionType]time.Duration, only func(*models.Action) bool) *models.Action {
	opt := Options{Windows: windows}
	var last *models.Action
	for i := range actions {
		a := &actions[i]
		switch a.Status {
		case models.ActionSent, models.ActionSuppressed:
		default:
			continue // never went out, nor was held back for the holdout
		}
		if (a.Status == models.ActionSuppressed && a.Reason != "holdout") || !a.Marketing {
			continue
		}
		if only != nil && !only(a) {
			continue
		}
		if at.Before(a.DueAt) || !at.Before(a.DueAt.Add(opt.window(&touch{typ: a.Type}))) {
			continue
		}
		if last == nil || a.DueAt.After(last.DueAt) || (a.DueAt.Equal(last.DueAt) && a.ID > last.ID) {
			last = a
		}
	}
	return last
}
