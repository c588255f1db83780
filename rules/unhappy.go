package rules

import (
	"math"
	"reflect"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/treue/treue/models"
)

// The unhappy-customer gate (seed 000: conflict competence; seed 003:
// listening to reviews and surveys): while a customer has an open complaint,
// or shortly after a bad rating, NPS or CSAT, marketing waits and the
// service-recovery rules speak instead.

// unhappyReason is the reason of a marketing action the gate holds back.
const unhappyReason = "unhappy_customer"

// Values of a rule's while_unhappy.
const (
	whileUnhappyAllow    = "allow"
	whileUnhappySuppress = "suppress"
)

// UnhappyPolicy is the shop-wide definition of an unhappy customer
// (defaults.unhappy). A threshold below its scale (rating or CSAT 0, NPS -1)
// is switched off.
type UnhappyPolicy struct {
	// Off is set by unhappy: none; nobody is unhappy then.
	Off           bool          `json:"off,omitempty"`
	OpenComplaint bool          `json:"open_complaint"`
	RatingAtMost  int           `json:"rating_at_most"`
	NPSAtMost     int           `json:"nps_at_most"`
	CSATAtMost    int           `json:"csat_at_most"`
	Window        time.Duration `json:"window"`
}

// DefaultUnhappy is the policy where the rules file sets none.
var DefaultUnhappy = UnhappyPolicy{OpenComplaint: true, RatingAtMost: 2, NPSAtMost: 6, CSATAtMost: 2, Window: 30 * 24 * time.Hour}

// UnhappySignal is what makes a customer unhappy at a moment: the first of
// an open complaint, a bad rating, NPS or CSAT that holds.
type UnhappySignal struct {
	// What names the signal: "open complaint", "rating 2", "NPS 4", "CSAT 1".
	What string
	// At is when the signal was given (the oldest open complaint's opening).
	At time.Time
	// Until is when the gate ends; zero for an open complaint, which holds
	// until it is resolved.
	Until time.Time
}

// Unhappy reports whether the customer's signals make them unhappy at at.
func (u UnhappyPolicy) Unhappy(s *models.Satisfaction, at time.Time) (UnhappySignal, bool) {
	if u.Off {
		return UnhappySignal{}, false
	}
	if u.OpenComplaint && s.OpenComplaints > 0 && s.OpenComplaintSince != nil && !s.OpenComplaintSince.After(at) {
		return UnhappySignal{What: "open complaint", At: s.OpenComplaintSince.UTC()}, true
	}
	recent := func(score *int, when *time.Time, atMost int, what string) (UnhappySignal, bool) {
		if score == nil || when == nil || *score > atMost || when.After(at) {
			return UnhappySignal{}, false
		}
		until := when.UTC().Add(u.Window)
		if !at.Before(until) {
			return UnhappySignal{}, false
		}
		return UnhappySignal{What: what + " " + strconv.Itoa(*score), At: when.UTC(), Until: until}, true
	}
	var rating *int
	if s.LastRating > 0 {
		rating = &s.LastRating
	}
	if sig, ok := recent(rating, s.LastRatingAt, u.RatingAtMost, "rating"); ok {
		return sig, true
	}
	if sig, ok := recent(s.LastNPS, s.LastNPSAt, u.NPSAtMost, "NPS"); ok {
		return sig, true
	}
	return recent(s.LastCSAT, s.LastCSATAt, u.CSATAtMost, "CSAT")
}

// String is the signal as a reason's detail: "open complaint since
// 2026-11-30", "rating 2 on 2026-11-30, until 2026-12-30".
func (g UnhappySignal) String() string {
	if g.Until.IsZero() {
		return g.What + " since " + g.At.Format(time.DateOnly)
	}
	return g.What + " on " + g.At.Format(time.DateOnly) + ", until " + g.Until.Format(time.DateOnly)
}

// unhappySpec is defaults.unhappy: a mapping, or "none".
type unhappySpec struct {
	Pos
	None          bool        `yaml:"-"`
	OpenComplaint *bool       `yaml:"open_complaint"`
	RatingAtMost  *numberVal  `yaml:"rating_at_most"`
	NPSAtMost     *numberVal  `yaml:"nps_at_most"`
	CSATAtMost    *numberVal  `yaml:"csat_at_most"`
	Window        durationVal `yaml:"window"`
}

func (u *unhappySpec) decodeNode(d *decoder, n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		u.Pos = nodePos(n)
		if n.Value != "none" {
			d.errorf(nodePos(n), "unhappy: expected \"none\" or a mapping with open_complaint, rating_at_most, nps_at_most, csat_at_most, window; got %q", n.Value)
		}
		u.None = true
		return
	}
	d.decodeStruct(n, reflect.ValueOf(u).Elem())
}

// unhappy compiles defaults.unhappy; what the mapping leaves out keeps its
// default.
func (c *compiler) unhappy(us *unhappySpec) UnhappyPolicy {
	p := DefaultUnhappy
	switch {
	case us == nil:
		return p
	case us.None:
		return UnhappyPolicy{Off: true}
	}
	if us.OpenComplaint != nil {
		p.OpenComplaint = *us.OpenComplaint
	}
	score := func(v *numberVal, name string, lo, hi int, off string, into *int) {
		if v == nil {
			return
		}
		if v.Value != math.Trunc(v.Value) || v.Value < float64(lo) || v.Value > float64(hi) {
			c.errorf(v.Pos, "unhappy %s must be a whole number from %d to %d (%s switches it off), got %v", name, lo, hi, off, v.Value)
			return
		}
		*into = int(v.Value)
	}
	score(us.RatingAtMost, "rating_at_most", 0, 5, "0", &p.RatingAtMost)
	score(us.NPSAtMost, "nps_at_most", -1, 10, "-1", &p.NPSAtMost)
	score(us.CSATAtMost, "csat_at_most", 0, 5, "0", &p.CSATAtMost)
	if us.Window.Set {
		if us.Window.D == 0 {
			c.errorf(us.Window.Pos, "unhappy window must be longer than zero")
		}
		p.Window = us.Window.D
	}
	return p
}

// whileUnhappy compiles a rule's while_unhappy: marketing is held back by
// default, service goes out.
func (c *compiler) whileUnhappy(rs *ruleSpec, r *Rule) {
	r.GateUnhappy = r.Kind == KindMarketing
	switch v := rs.WhileUnhappy; v.Value {
	case "":
	case whileUnhappyAllow:
		r.GateUnhappy = false
	case whileUnhappySuppress:
		r.GateUnhappy = true
	default:
		c.errorf(v.Pos, "while_unhappy must be allow or suppress, got %q", v.Value)
	}
}

// unhappyAt is the moment the gate is judged at: the event's source time
// (the scan's time for daily_scan), the moment the profile is built for, so
// that the verdict depends on the journey and not on when its webhooks
// arrived.
func (ev *evaluation) unhappyAt() time.Time { return ev.env.Event.At }

// unhappyGate is the guardrail: the reason that holds back r's action, or "".
func (ev *evaluation) unhappyGate(r *Rule) string {
	if !r.GateUnhappy {
		return ""
	}
	sig, ok := ev.s.Defaults.Unhappy.Unhappy(&ev.in.Profile.Satisfaction, ev.unhappyAt())
	if !ok {
		return ""
	}
	// A reason variable, so that the reasons test (doc_test.go) finds it.
	reason := unhappyReason + ": " + sig.String()
	return reason
}

// unhappyCancel cancels pending gated marketing when the event is itself a
// signal that makes the customer unhappy: every such action for an open
// complaint (its end is not known), those due before the gate ends for a
// bad rating, NPS or CSAT (later ones go out as planned).
func (ev *evaluation) unhappyCancel(r *Rule, p *Pending) string {
	gated := p.Marketing
	if r != nil {
		gated = r.GateUnhappy
	}
	if !gated || !ev.signalEvent() {
		return ""
	}
	sig, ok := ev.s.Defaults.Unhappy.Unhappy(&ev.in.Profile.Satisfaction, ev.unhappyAt())
	if !ok || (!sig.Until.IsZero() && !p.DueAt.Before(sig.Until)) {
		return ""
	}
	reason := unhappyReason + ": " + sig.String()
	return reason
}

// signalEvent reports whether the event is a bad signal under the policy.
func (ev *evaluation) signalEvent() bool {
	u, d := &ev.s.Defaults.Unhappy, &ev.in.Event.Data
	switch ev.in.Event.Type {
	case models.ComplaintOpened:
		return u.OpenComplaint && d.Complaint != nil && d.Complaint.ID != ""
	case models.ReviewSubmitted:
		return d.Review != nil && d.Review.Rating > 0 && d.Review.Rating <= u.RatingAtMost
	case models.SurveyAnswered:
		if d.Survey == nil || d.Survey.Score == nil {
			return false
		}
		switch d.Survey.Kind {
		case models.SurveyNPS:
			return *d.Survey.Score <= u.NPSAtMost
		case models.SurveyCSAT:
			return *d.Survey.Score <= u.CSATAtMost
		}
	}
	return false
}

// satisfactionEnv fills the customer's and the event's satisfaction fields.
func (s *Set) satisfactionEnv(b *envBlock, in *Input) {
	c, sat := &b.customer, &in.Profile.Satisfaction
	c.LastRating, c.LastNPS, c.LastCSAT = -1, -1, -1
	if sat.LastRating > 0 {
		c.LastRating = sat.LastRating
	}
	c.LastRatingAt = timeOf(sat.LastRatingAt)
	if sat.LastNPS != nil {
		c.LastNPS = *sat.LastNPS
	}
	c.LastNPSAt = timeOf(sat.LastNPSAt)
	if sat.LastCSAT != nil {
		c.LastCSAT = *sat.LastCSAT
	}
	c.LastCSATAt = timeOf(sat.LastCSATAt)
	c.OpenComplaints = sat.OpenComplaints
	_, c.Unhappy = s.Defaults.Unhappy.Unhappy(sat, b.event.At)
	b.event.SurveyScore = -1
	if sv := in.Event.Data.Survey; sv != nil {
		b.event.SurveyKind = sv.Kind
		if sv.Score != nil {
			b.event.SurveyScore = *sv.Score
		}
	}
	if cp := in.Event.Data.Complaint; cp != nil {
		b.event.ComplaintID = cp.ID
	}
}

// jsonValue is the policy as the rules file writes it: "none", or the
// thresholds with the window as a duration ("30d").
func (u UnhappyPolicy) jsonValue() any {
	if u.Off {
		return "none"
	}
	return struct {
		OpenComplaint bool   `json:"open_complaint"`
		RatingAtMost  int    `json:"rating_at_most"`
		NPSAtMost     int    `json:"nps_at_most"`
		CSATAtMost    int    `json:"csat_at_most"`
		Window        string `json:"window"`
	}{u.OpenComplaint, u.RatingAtMost, u.NPSAtMost, u.CSATAtMost, formatDuration(u.Window)}
}
