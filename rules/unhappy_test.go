package rules

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/models"
)

const unhappyRules = `
defaults:
  frequency_cap: none
%s
rules:
  - id: offer
    on: [order.placed]
    kind: marketing
    action: {type: promo_code, params: {percent: 10}}
  - id: offer-anyway
    on: [order.placed]
    kind: marketing
    while_unhappy: allow
    action: {type: promo_code, params: {percent: 5}}
  - id: thanks
    on: [order.placed]
    kind: service
    action: {type: notify}
  - id: thanks-held
    on: [order.placed]
    kind: service
    while_unhappy: suppress
    action: {type: notify}
  - id: win-back
    on: daily_scan
    kind: marketing
    when: {inactive_for: 10d}
    action: {type: promo_code, params: {percent: 15}}
`

func parseUnhappy(t *testing.T, defaults string) *Set {
	t.Helper()
	s, err := Parse("unhappy.yaml", []byte(strings.Replace(unhappyRules, "%s", defaults, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// verdicts runs an order.placed at at for a customer with sat and returns
// each rule's status and reason.
func verdicts(s *Set, sat models.Satisfaction, at time.Time) map[string]string {
	p := profile()
	p.Satisfaction = sat
	e := orderEvent(models.OrderPlaced, "o-9", at, "20.00", line("BEAN-ESP-1KG", 1, "20.00"))
	res := s.Evaluate(Input{Event: e, EventID: 9, Profile: p, Now: at})
	out := map[string]string{}
	for _, pl := range res.Planned {
		out[pl.RuleID] = string(pl.Status) + " " + pl.Reason
	}
	return out
}

func TestUnhappy_Gate(t *testing.T) {
	s := parseUnhappy(t, "")
	bad := at(1, 12, 0)
	rating := func(n int) models.Satisfaction { return models.Satisfaction{LastRating: n, LastRatingAt: &bad} }
	score := func(n int) *int { return &n }
	tests := []struct {
		name  string
		sat   models.Satisfaction
		at    time.Time
		offer string // the marketing rule's verdict
	}{
		{"Happy", models.Satisfaction{}, bad, "scheduled "},
		{"RatingTwo", rating(2), bad.Add(time.Hour), "suppressed unhappy_customer: rating 2 on 2026-11-01, until 2026-12-01"},
		{"RatingThree", rating(3), bad.Add(time.Hour), "scheduled "},
		// The window's edges: the gate holds until 30 days after the rating, not at it.
		{"WindowLastSecond", rating(1), bad.Add(30*24*time.Hour - time.Second), "suppressed unhappy_customer: rating 1 on 2026-11-01, until 2026-12-01"},
		{"WindowOver", rating(1), bad.Add(30 * 24 * time.Hour), "scheduled "},
		// A signal from after the moment judged does not count there.
		{"RatingLater", rating(1), bad.Add(-time.Hour), "scheduled "},
		{"NPSSix", models.Satisfaction{LastNPS: score(6), LastNPSAt: &bad}, bad, "suppressed unhappy_customer: NPS 6 on 2026-11-01, until 2026-12-01"},
		{"NPSSeven", models.Satisfaction{LastNPS: score(7), LastNPSAt: &bad}, bad, "scheduled "},
		{"NPSZero", models.Satisfaction{LastNPS: score(0), LastNPSAt: &bad}, bad, "suppressed unhappy_customer: NPS 0 on 2026-11-01, until 2026-12-01"},
		{"CSATTwo", models.Satisfaction{LastCSAT: score(2), LastCSATAt: &bad}, bad, "suppressed unhappy_customer: CSAT 2 on 2026-11-01, until 2026-12-01"},
		{"CSATThree", models.Satisfaction{LastCSAT: score(3), LastCSATAt: &bad}, bad, "scheduled "},
		// An open complaint has no window: it holds until resolved.
		{"OpenComplaint", models.Satisfaction{OpenComplaints: 1, OpenComplaintSince: &bad}, bad.Add(90 * 24 * time.Hour), "suppressed unhappy_customer: open complaint since 2026-11-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := verdicts(s, tt.sat, tt.at)
			if v["offer"] != tt.offer {
				t.Errorf("offer: %q, want %q", v["offer"], tt.offer)
			}
			if v["offer-anyway"] != "scheduled " || v["thanks"] != "scheduled " {
				t.Errorf("override and service must act: %q %q", v["offer-anyway"], v["thanks"])
			}
			if v["thanks-held"] != tt.offer {
				t.Errorf("thanks-held (while_unhappy: suppress): %q, want %q", v["thanks-held"], tt.offer)
			}
		})
	}
}

func TestUnhappy_Policy(t *testing.T) {
	bad := at(1, 12, 0)
	two := models.Satisfaction{LastRating: 2, LastRatingAt: &bad}
	complaint := models.Satisfaction{OpenComplaints: 1, OpenComplaintSince: &bad}
	tests := []struct {
		name, defaults string
		sat            models.Satisfaction
		at             time.Time
		suppressed     bool
	}{
		{"Off", "  unhappy: none", two, bad, false},
		{"OffComplaint", "  unhappy: none", complaint, bad, false},
		{"RatingSwitchedOff", "  unhappy: {rating_at_most: 0}", two, bad, false},
		{"ComplaintSwitchedOff", "  unhappy: {open_complaint: false}", complaint, bad, false},
		{"StricterRating", "  unhappy: {rating_at_most: 1}", two, bad, false},
		// What the mapping leaves out keeps its default.
		{"ShortWindow", "  unhappy: {window: 7d}", two, bad.Add(8 * 24 * time.Hour), false},
		{"ShortWindowInside", "  unhappy: {window: 7d}", two, bad.Add(6 * 24 * time.Hour), true},
		{"ShortWindowComplaint", "  unhappy: {window: 7d}", complaint, bad.Add(8 * 24 * time.Hour), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parseUnhappy(t, tt.defaults)
			got := strings.HasPrefix(verdicts(s, tt.sat, tt.at)["offer"], "suppressed unhappy_customer")
			if got != tt.suppressed {
				t.Errorf("suppressed = %v, want %v", got, tt.suppressed)
			}
		})
	}
}

func TestUnhappy_Diagnostics(t *testing.T) {
	tests := []struct{ defaults, rule, want string }{
		{"  unhappy: sometimes", "", `4:12: unhappy: expected "none" or a mapping`},
		{"  unhappy: {rating_at_most: 6}", "", "4:29: unhappy rating_at_most must be a whole number from 0 to 5"},
		{"  unhappy: {nps_at_most: -2}", "", "4:26: unhappy nps_at_most must be a whole number from -1 to 10"},
		{"  unhappy: {csat_at_most: 1.5}", "", "4:27: unhappy csat_at_most must be a whole number from 0 to 5"},
		{"  unhappy: {window: 0d}", "", "4:21: unhappy window must be longer than zero"},
		{"  unhappy: {mood: bad}", "", `unknown field "mood"`},
		{"", "while_unhappy: maybe", `while_unhappy must be allow or suppress, got "maybe"`},
	}
	for _, tt := range tests {
		src := strings.Replace(unhappyRules, "%s", tt.defaults, 1)
		if tt.rule != "" {
			src = strings.Replace(src, "while_unhappy: allow", tt.rule, 1)
		}
		_, err := Parse("unhappy.yaml", []byte(src))
		var d Diagnostics
		if !errors.As(err, &d) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q %q: %v, want %q", tt.defaults, tt.rule, err, tt.want)
		}
	}
}

// A daily scan 31 days after the bad rating is no longer gated; one on day 29 is.
func TestUnhappy_ScanAfterWindow(t *testing.T) {
	s := parseUnhappy(t, "")
	bad := at(1, 12, 0)
	p := profile()
	p.LastOrderAt = tp(at(1, 9, 0))
	p.Satisfaction = models.Satisfaction{LastRating: 1, LastRatingAt: &bad}
	for _, tt := range []struct {
		days   int
		status models.ActionStatus
	}{{29, models.ActionSuppressed}, {31, models.ActionScheduled}} {
		now := bad.Add(time.Duration(tt.days) * 24 * time.Hour)
		res := s.Scan(Input{Profile: p, Now: now})
		if len(res.Planned) != 1 || res.Planned[0].Status != tt.status {
			t.Errorf("scan on day %d: %+v, want %s", tt.days, res.Planned, tt.status)
		}
	}
}

// A bad signal withdraws waiting gated marketing: everything for a
// complaint, what is due inside the window for a rating.
func TestUnhappy_CancelsPending(t *testing.T) {
	s := parseUnhappy(t, "")
	now := at(10, 12, 0)
	pending := []Pending{
		{ID: 1, RuleID: "offer", Type: models.ActionPromoCode, DueAt: now.Add(5 * 24 * time.Hour), Marketing: true},
		{ID: 2, RuleID: "offer", Type: models.ActionPromoCode, DueAt: now.Add(60 * 24 * time.Hour), Marketing: true},
		{ID: 3, RuleID: "offer-anyway", Type: models.ActionPromoCode, DueAt: now.Add(5 * 24 * time.Hour), Marketing: true},
		{ID: 4, RuleID: "thanks", Type: models.ActionNotify, DueAt: now.Add(5 * 24 * time.Hour)},
		{ID: 5, RuleID: "gone", Type: models.ActionPromoCode, DueAt: now.Add(5 * 24 * time.Hour), Marketing: true},
	}
	score := func(n int) *int { return &n }
	tests := []struct {
		name string
		e    models.Event
		sat  models.Satisfaction
		want string // cancelled action ids
	}{
		{"Complaint", models.Event{Type: models.ComplaintOpened, Data: models.EventData{Complaint: &models.Complaint{ID: "k-1"}}},
			models.Satisfaction{OpenComplaints: 1, OpenComplaintSince: &now}, "1 2 5"},
		{"BadRating", models.Event{Type: models.ReviewSubmitted, Data: models.EventData{Review: &models.Review{Rating: 1}}},
			models.Satisfaction{LastRating: 1, LastRatingAt: &now}, "1 5"},
		{"Detractor", models.Event{Type: models.SurveyAnswered, Data: models.EventData{Survey: &models.Survey{Kind: "nps", Score: score(3)}}},
			models.Satisfaction{LastNPS: score(3), LastNPSAt: &now}, "1 5"},
		{"GoodRating", models.Event{Type: models.ReviewSubmitted, Data: models.EventData{Review: &models.Review{Rating: 5}}},
			models.Satisfaction{LastRating: 5, LastRatingAt: &now}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.e.Timestamp, tt.e.Data.Customer = now, customer("c-1")
			p := profile()
			p.Satisfaction = tt.sat
			res := s.Evaluate(Input{Event: tt.e, EventID: 7, Profile: p, Pending: pending, Now: now})
			var ids []string
			for _, c := range res.Cancels {
				ids = append(ids, itoa(int(c.ActionID)))
				if !strings.HasPrefix(c.Reason, "unhappy_customer: ") {
					t.Errorf("cancel %d: reason %q", c.ActionID, c.Reason)
				}
			}
			if got := strings.Join(ids, " "); got != tt.want {
				t.Errorf("cancelled %q, want %q", got, tt.want)
			}
		})
	}
}

// customer.unhappy and the satisfaction fields are there for conditions.
func TestUnhappy_Env(t *testing.T) {
	src := `
rules:
  - id: sorry
    on: [review.submitted]
    if: customer.unhappy && customer.last_rating == 2 && customer.last_nps == -1 && customer.open_complaints == 0 && event.survey_score == -1
    kind: service
    action: {type: notify}
`
	s, err := Parse("env.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	now := at(3, 12, 0)
	p := profile()
	p.Satisfaction = models.Satisfaction{LastRating: 2, LastRatingAt: &now}
	e := models.Event{Type: models.ReviewSubmitted, Timestamp: now, Data: models.EventData{Customer: customer("c-1"), Review: &models.Review{Rating: 2}}}
	res := s.Evaluate(Input{Event: e, EventID: 1, Profile: p, Now: now})
	if len(res.Planned) != 1 || len(res.Errors) > 0 {
		t.Fatalf("planned %+v, errors %+v", res.Planned, res.Errors)
	}
}
