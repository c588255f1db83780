package models

import "time"

// Satisfaction signals (seed 003: surveys, reviews; seed 000: conflict
// competence): what the customer said about the shop, which decides whether
// marketing should wait (rules: defaults.unhappy).
const (
	SurveyAnswered    EventType = "survey.answered"
	ComplaintResolved EventType = "complaint.resolved"
)

// Survey kinds and their scales.
const (
	SurveyNPS  = "nps"  // Net Promoter Score, 0–10
	SurveyCSAT = "csat" // customer satisfaction, 1–5
)

// Survey is a customer's answer to a satisfaction survey.
type Survey struct {
	ID   string `json:"id,omitempty"`
	Kind string `json:"kind"`
	// Score is a pointer because 0 is a valid NPS answer: a missing score
	// must be told apart from a detractor's 0.
	Score   *int   `json:"score"`
	Comment string `json:"comment,omitempty"`
}

// validateSatisfaction checks the parts the satisfaction events need.
func validateSatisfaction(v *ValidationError, e *Event) {
	d := &e.Data
	switch e.Type {
	case SurveyAnswered:
		s := d.Survey
		if s == nil {
			v.Add("data.survey", "is required for %s", e.Type)
			return
		}
		lo, hi := 0, 0
		switch s.Kind {
		case SurveyNPS:
			lo, hi = 0, 10
		case SurveyCSAT:
			lo, hi = 1, 5
		case "":
			v.Add("data.survey.kind", "is required: nps or csat")
		default:
			v.Add("data.survey.kind", "must be nps or csat, got %q", s.Kind)
		}
		switch {
		case s.Score == nil:
			v.Add("data.survey.score", "is required for %s", e.Type)
		case hi > 0 && (*s.Score < lo || *s.Score > hi):
			v.Add("data.survey.score", "must be %d-%d for %s, got %d", lo, hi, s.Kind, *s.Score)
		}
	case ComplaintResolved:
		// The id is what nets a resolution against its opening, in whichever
		// order the two arrive.
		if d.Complaint == nil || d.Complaint.ID == "" {
			v.Add("data.complaint.id", "is required for %s", e.Type)
		}
	case ReviewSubmitted:
		if r := d.Review; r != nil && (r.Rating < 0 || r.Rating > 5) {
			v.Add("data.review.rating", "must be 1-5, got %d", r.Rating)
		}
	}
}

// satisfactionStepKey keys a resolution by its complaint, so that a
// resolution delivered twice with different timestamps is kept once; ""
// leaves the key to StepKey's default. A survey keeps the default (customer
// and time): a survey id may be reused for the next round of the same survey.
func satisfactionStepKey(e *Event) string {
	if d := &e.Data; e.Type == ComplaintResolved && d.Complaint != nil {
		return string(e.Type) + "|" + e.CustomerKey() + "|" + d.Complaint.ID
	}
	return ""
}

// Satisfaction is what a customer's satisfaction signals say, as the
// profile keeps it. The pointers are nil while the customer never gave
// that signal (0 is a valid NPS).
type Satisfaction struct {
	LastRating   int        `json:"last_rating,omitempty"`
	LastRatingAt *time.Time `json:"last_rating_at,omitempty"`
	LastNPS      *int       `json:"last_nps,omitempty"`
	LastNPSAt    *time.Time `json:"last_nps_at,omitempty"`
	LastCSAT     *int       `json:"last_csat,omitempty"`
	LastCSATAt   *time.Time `json:"last_csat_at,omitempty"`
	// OpenComplaints counts complaints opened and not resolved, by id.
	OpenComplaints int `json:"open_complaints,omitempty"`
	// OpenComplaintSince is when the oldest open complaint was opened.
	OpenComplaintSince *time.Time `json:"open_complaint_since,omitempty"`
}
