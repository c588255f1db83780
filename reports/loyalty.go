// Package reports computes Treue's outcome reports from the stored journeys,
// such as a shop's loyalty figures (loyalty.go). It reads through small
// interfaces it defines itself and derives what it counts with the journey
// package, so that a report counts orders and stages as the profiles do.
package reports

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
)

// LoyaltyMinSample is the smallest number of customers (or gaps between
// orders) a loyalty figure is computed from. Below it the figure is null
// with a note: a rate over a dozen customers swings with every order and
// reads as a fact it is not.
const LoyaltyMinSample = 30

// loyaltyBatch is how many customers' journeys are read and held at once.
const loyaltyBatch = 500

// loyaltyMaxMonths bounds a period: every month is one more profile
// derivation per customer.
const loyaltyMaxMonths = 120

// LoyaltyRepeatWindow is the window of the second repurchase figure.
const LoyaltyRepeatWindow = 90 * 24 * time.Hour

// LoyaltySource is what the loyalty figures read: the ids of a shop's
// customers, once, then their journeys a page of ids at a time.
type LoyaltySource interface {
	ShopCustomerIDs(ctx context.Context, shopID int64) ([]int64, error)
	LoyaltyJourneys(ctx context.Context, customerIDs []int64) ([]models.LoyaltyJourney, error)
}

// LoyaltyPeriod is the loyalty figures' Period.
type LoyaltyPeriod = Period

// ParseLoyaltyPeriod reads the loyalty figures' period (see ParsePeriod):
// an empty from is the first day of the month eleven months before the
// period's last month, twelve calendar months; periods over ten years are
// refused.
func ParseLoyaltyPeriod(shop *models.Shop, from, to string, now time.Time) (LoyaltyPeriod, error) {
	p, err := ParsePeriod(shop, from, to, now, func(to time.Time) time.Time {
		last := to.AddDate(0, 0, -1)
		return time.Date(last.Year(), last.Month()-11, 1, 0, 0, 0, 0, to.Location())
	})
	if err != nil {
		return p, err
	}
	if loyaltyMonth(p.To.Add(-time.Nanosecond), p.Location)-loyaltyMonth(p.From, p.Location) >= loyaltyMaxMonths {
		var v models.ValidationError
		v.Add("from", "the period spans more than %d months", loyaltyMaxMonths)
		return p, &v
	}
	return p, nil
}

func loyaltyLocation(shop *models.Shop) (*time.Location, error) {
	if shop.Timezone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(shop.Timezone)
	if err != nil {
		return nil, fmt.Errorf("reports: shop %s: time zone: %w", shop.Key, err)
	}
	return loc, nil
}

// Loyalty is the shop-level loyalty figures of a period, in the API's shape.
// Orders placed after now count nowhere, also when To is later.
type Loyalty struct {
	Shop      string `json:"shop"`
	From      string `json:"from"`
	To        string `json:"to"`
	Timezone  string `json:"timezone"`
	MinSample int    `json:"min_sample"`
	// Customers counts the customers with any counted order (not cancelled,
	// not a test) placed before To.
	Customers         int                 `json:"customers"`
	Repurchase        LoyaltyRepurchase   `json:"repurchase"`
	DaysBetweenOrders LoyaltyOrderGaps    `json:"days_between_orders"`
	Stages            []LoyaltyStageMonth `json:"stages"`
	Cohorts           []LoyaltyCohort     `json:"cohorts"`
}

// LoyaltyRepurchase: of the customers whose first counted order falls in
// the period, how many placed a second one before To, and how many within
// LoyaltyRepeatWindow of the first.
type LoyaltyRepurchase struct {
	Customers       int                `json:"customers"`
	RepeatCustomers int                `json:"repeat_customers"`
	Rate            *float64           `json:"rate"`
	Within90Days    LoyaltyRepeatCount `json:"within_90_days"`
	Note            string             `json:"note"`
}

// LoyaltyRepeatCount is the repeat customers within the window and their rate.
type LoyaltyRepeatCount struct {
	RepeatCustomers int      `json:"repeat_customers"`
	Rate            *float64 `json:"rate"`
}

// LoyaltyOrderGaps is the median time between a customer's consecutive
// counted orders, both placed in the period, in days to one decimal.
type LoyaltyOrderGaps struct {
	Median *float64 `json:"median"`
	Gaps   int      `json:"gaps"`
	Note   string   `json:"note"`
}

// LoyaltyStageMonth counts the customers in each stage at a month's end
// (or at the end of the period, or now, for a month that has not ended).
type LoyaltyStageMonth struct {
	Month  string             `json:"month"`
	Counts LoyaltyStageCounts `json:"counts"`
}

// LoyaltyStageCounts has one count per lifecycle stage, in lifecycle order.
type LoyaltyStageCounts struct {
	New            int `json:"new"`
	FirstPurchase  int `json:"first_purchase"`
	SecondPositive int `json:"second_positive"`
	Loyal          int `json:"loyal"`
	AtRisk         int `json:"at_risk"`
	Lapsed         int `json:"lapsed"`
}

func (c *LoyaltyStageCounts) add(s models.Stage) {
	switch s {
	case models.StageNew:
		c.New++
	case models.StageFirstPurchase:
		c.FirstPurchase++
	case models.StageSecondPositive:
		c.SecondPositive++
	case models.StageLoyal:
		c.Loyal++
	case models.StageAtRisk:
		c.AtRisk++
	case models.StageLapsed:
		c.Lapsed++
	}
}

// Total is the number of customers counted in the month.
func (c LoyaltyStageCounts) Total() int {
	return c.New + c.FirstPurchase + c.SecondPositive + c.Loyal + c.AtRisk + c.Lapsed
}

// LoyaltyCohort is the customers whose first counted order fell in one month
// of the period. Retained[k] counts those who placed a counted order in the
// k-th month after it (Retained[0] is Size), up to the period's last month;
// Rates[k] is Retained[k]/Size, null below the minimum sample.
type LoyaltyCohort struct {
	Cohort   string     `json:"cohort"`
	Size     int        `json:"size"`
	Retained []int      `json:"retained"`
	Rates    []*float64 `json:"rates"`
	Note     string     `json:"note"`
}

// LoyaltyReport computes the loyalty figures of a shop.
type LoyaltyReport struct {
	Source LoyaltySource
	// Options are the lifecycle thresholds the profiles use.
	Options journey.Options
	// MinSample overrides LoyaltyMinSample (0: LoyaltyMinSample).
	MinSample int
	// BatchSize is the customers read per page (0: 500).
	BatchSize int
	// Progress, when set, is told after every page how many of the shop's
	// customers have been read.
	Progress func(read, total int)
}

// Run reads every journey of the shop once and computes the figures of p
// as they stand at now. Months after now are not evaluated: a stage in the
// future would only show customers drifting to at risk.
func (r *LoyaltyReport) Run(ctx context.Context, shop *models.Shop, p LoyaltyPeriod, now time.Time) (*Loyalty, error) {
	run := newLoyaltyRun(r, p, now)
	batch := r.BatchSize
	if batch <= 0 {
		batch = loyaltyBatch
	}
	// The ids are read once (a shop of a million customers is 8 MB of
	// them); paging by "id > last" instead makes SQLite sort the shop's ids
	// again for every page.
	ids, err := r.Source.ShopCustomerIDs(ctx, shop.ID)
	if err != nil {
		return nil, fmt.Errorf("reports: loyalty of shop %s: %w", shop.Key, err)
	}
	// The next page is read while this one is counted: the database and
	// the fold take about as long as each other.
	type page struct {
		js  []models.LoyaltyJourney
		err error
	}
	total := len(ids)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan page, 1)
	go func() {
		defer close(pages)
		for len(ids) > 0 {
			ps := ids[:min(batch, len(ids))]
			ids = ids[len(ps):]
			js, err := r.Source.LoyaltyJourneys(ctx, ps)
			select {
			case pages <- page{js, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for pg := range pages {
		if pg.err != nil {
			return nil, fmt.Errorf("reports: loyalty of shop %s: %w", shop.Key, pg.err)
		}
		for i := range pg.js {
			run.add(pg.js[i].Events)
		}
		run.read += len(pg.js)
		if r.Progress != nil {
			r.Progress(run.read, total)
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reports: loyalty of shop %s: %w", shop.Key, err)
		}
	}
	return run.figures(shop), nil
}

// loyaltyRun accumulates the figures over the customers.
type loyaltyRun struct {
	opts      journey.Options
	min       int
	loc       *time.Location
	from, to  time.Time
	end       time.Time // min(to, now): nothing after it is counted
	month0    int       // loyaltyMonth of from
	monthEnds []time.Time

	read                                             int
	customers, cohortCustomers, repeat, repeatWindow int
	gaps                                             []float64
	stages                                           []LoyaltyStageCounts
	cohortSize                                       []int
	retained                                         [][]int
}

func newLoyaltyRun(r *LoyaltyReport, p LoyaltyPeriod, now time.Time) *loyaltyRun {
	run := &loyaltyRun{opts: r.Options, min: r.MinSample, loc: p.Location, from: p.From, to: p.To, end: p.To}
	if run.min <= 0 {
		run.min = LoyaltyMinSample
	}
	if now.Before(run.end) {
		run.end = now
	}
	run.month0 = loyaltyMonth(p.From, p.Location)
	if run.end.After(p.From) {
		for m := run.month0; m <= loyaltyMonth(run.end.Add(-time.Nanosecond), p.Location); m++ {
			at := loyaltyMonthStart(m+1, p.Location)
			if at.After(run.end) {
				at = run.end
			}
			run.monthEnds = append(run.monthEnds, at)
		}
	}
	n := len(run.monthEnds)
	run.stages = make([]LoyaltyStageCounts, n)
	run.cohortSize = make([]int, n)
	run.retained = make([][]int, n)
	for c := range run.retained {
		run.retained[c] = make([]int, n-c)
	}
	return run
}

// loyaltyMonth numbers the calendar month of t in loc (year*12 + month-1).
func loyaltyMonth(t time.Time, loc *time.Location) int {
	y, m, _ := t.In(loc).Date()
	return y*12 + int(m) - 1
}

func loyaltyMonthStart(month int, loc *time.Location) time.Time {
	return time.Date(month/12, time.Month(month%12+1), 1, 0, 0, 0, 0, loc)
}

// in reports whether an order placed at t falls in the period as observed:
// an order stamped after now (a shop's clock ahead) is not counted yet.
func (r *loyaltyRun) in(t time.Time) bool { return !t.Before(r.from) && t.Before(r.end) }

// add counts one customer. Whether an order counts (not cancelled, not a
// test) is judged on everything known now; the stages are derived from the
// events that had happened by each month's end, as journey.Build derives
// the profile's stage at that moment (journey.StagesAt, in one pass).
func (r *loyaltyRun) add(events []models.Event) {
	if len(events) == 0 {
		return
	}
	journey.Sort(events)
	stages, orders := journey.StagesAt(events, r.monthEnds, r.opts)
	var counted []*journey.Order
	for _, o := range orders {
		if !o.Cancelled && !o.Test {
			counted = append(counted, o)
		}
	}
	if len(counted) > 0 && counted[0].PlacedAt.Before(r.end) {
		r.customers++
	}
	if len(counted) > 0 && r.in(counted[0].PlacedAt) {
		first := counted[0].PlacedAt
		r.cohortCustomers++
		if len(counted) > 1 && counted[1].PlacedAt.Before(r.end) {
			r.repeat++
			if counted[1].PlacedAt.Sub(first) <= LoyaltyRepeatWindow {
				r.repeatWindow++
			}
		}
		if c := loyaltyMonth(first, r.loc) - r.month0; c < len(r.cohortSize) {
			r.cohortSize[c]++
			seen := -1
			for _, o := range counted {
				if !o.PlacedAt.Before(r.end) {
					break
				}
				k := loyaltyMonth(o.PlacedAt, r.loc) - r.month0 - c
				if k > seen && k < len(r.retained[c]) {
					r.retained[c][k]++
					seen = k
				}
			}
		}
	}
	for i := 1; i < len(counted); i++ {
		a, b := counted[i-1].PlacedAt, counted[i].PlacedAt
		if r.in(a) && r.in(b) {
			r.gaps = append(r.gaps, b.Sub(a).Hours()/24)
		}
	}
	for j, st := range stages {
		if st != "" { // "": not a customer yet
			r.stages[j].add(st)
		}
	}
}

func (r *loyaltyRun) rate(n, of int) *float64 {
	if of < r.min || of == 0 {
		return nil
	}
	v := float64(n) / float64(of)
	return &v
}

func (r *loyaltyRun) note(n int, what string) string {
	if n >= r.min {
		return ""
	}
	if n == 1 {
		what = strings.TrimSuffix(what, "s") // "1 customer", "1 gap"
	}
	return fmt.Sprintf("not enough data: %d %s, %d needed", n, what, r.min)
}

func (r *loyaltyRun) figures(shop *models.Shop) *Loyalty {
	l := &Loyalty{
		Shop: shop.Key, From: r.from.Format(time.DateOnly), To: r.to.Format(time.DateOnly),
		Timezone: r.loc.String(), MinSample: r.min, Customers: r.customers,
		Repurchase: LoyaltyRepurchase{
			Customers: r.cohortCustomers, RepeatCustomers: r.repeat, Rate: r.rate(r.repeat, r.cohortCustomers),
			Within90Days: LoyaltyRepeatCount{RepeatCustomers: r.repeatWindow, Rate: r.rate(r.repeatWindow, r.cohortCustomers)},
			Note:         r.note(r.cohortCustomers, "customers"),
		},
		DaysBetweenOrders: LoyaltyOrderGaps{Gaps: len(r.gaps), Note: r.note(len(r.gaps), "gaps")},
		Stages:            make([]LoyaltyStageMonth, len(r.monthEnds)),
		Cohorts:           make([]LoyaltyCohort, len(r.monthEnds)),
	}
	if len(r.gaps) >= r.min && len(r.gaps) > 0 {
		slices.Sort(r.gaps)
		m := len(r.gaps) / 2
		med := r.gaps[m]
		if len(r.gaps)%2 == 0 {
			med = (r.gaps[m-1] + r.gaps[m]) / 2
		}
		// Days to one decimal: order times are seconds apart, the figure is
		// read in days.
		med = math.Round(med*10) / 10
		l.DaysBetweenOrders.Median = &med
	}
	for j := range r.monthEnds {
		month := loyaltyMonthStart(r.month0+j, r.loc).Format("2006-01")
		l.Stages[j] = LoyaltyStageMonth{Month: month, Counts: r.stages[j]}
		size := r.cohortSize[j]
		c := LoyaltyCohort{Cohort: month, Size: size, Retained: r.retained[j], Rates: make([]*float64, len(r.retained[j])), Note: r.note(size, "customers")}
		for k, n := range r.retained[j] {
			c.Rates[k] = r.rate(n, size)
		}
		l.Cohorts[j] = c
	}
	return l
}
