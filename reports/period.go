package reports

import (
	"time"

	"github.com/treue/treue/models"
)

// Period is a report's [From, To): midnights in the shop's time zone.
type Period struct {
	From, To time.Time
	Location *time.Location
}

// ParsePeriod reads a period given as dates (YYYY-MM-DD, in the shop's time
// zone; to is exclusive), as the API's ?from=&to= and the CLI's --from and
// --to give it. An empty to is tomorrow, so that today counts; an empty from
// is back(to). Bad dates and from on or after to are a
// *models.ValidationError naming the field.
func ParsePeriod(shop *models.Shop, from, to string, now time.Time, back func(to time.Time) time.Time) (Period, error) {
	loc, err := loyaltyLocation(shop)
	if err != nil {
		return Period{}, err
	}
	p := Period{Location: loc}
	var v models.ValidationError
	parse := func(field, s string) time.Time {
		t, err := time.ParseInLocation(time.DateOnly, s, loc)
		if err != nil {
			v.Add(field, "must be a date YYYY-MM-DD, got %q", s)
		}
		return t
	}
	if to == "" {
		y, m, d := now.In(loc).Date()
		p.To = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	} else {
		p.To = parse("to", to)
	}
	if from == "" {
		p.From = back(p.To)
	} else {
		p.From = parse("from", from)
	}
	if err := v.Err(); err != nil {
		return p, err
	}
	if !p.From.Before(p.To) {
		v.Add("from", "must be before to (%s), got %s", p.To.Format(time.DateOnly), p.From.Format(time.DateOnly))
	}
	return p, v.Err()
}

// ParseRulesPeriod reads the rules report's period (see ParsePeriod): an
// empty from is 90 days before to; periods over three years are refused.
func ParseRulesPeriod(shop *models.Shop, from, to string, now time.Time) (Period, error) {
	p, err := ParsePeriod(shop, from, to, now, func(to time.Time) time.Time { return to.AddDate(0, 0, -90) })
	if err == nil && p.To.Sub(p.From) > 3*366*24*time.Hour {
		var v models.ValidationError
		v.Add("to", "the period may span at most three years")
		return p, &v
	}
	return p, err
}
