package journey

import (
	"github.com/treue/treue/models"
)

// satisfaction folds the satisfaction signals of events (which Sort has put
// in order): the latest rating, NPS and CSAT by source time, and the
// complaints opened and not resolved. Complaints are netted by id as sets,
// so a resolution that arrives before its opening, or either delivered
// twice, still nets to zero. A complaint without an id cannot be resolved
// and is not counted: it would hold the customer unhappy for ever.
func satisfaction(evs []models.Event) models.Satisfaction {
	var s models.Satisfaction
	opened := map[string]int{} // complaint id → index of its first opening
	resolved := map[string]bool{}
	for i := range evs {
		e := &evs[i]
		d := &e.Data
		at := e.OccurredAt()
		switch e.Type {
		case models.ReviewSubmitted:
			if d.Review != nil && d.Review.Rating > 0 {
				s.LastRating, s.LastRatingAt = d.Review.Rating, &at
			}
		case models.SurveyAnswered:
			if d.Survey == nil || d.Survey.Score == nil {
				continue
			}
			score := *d.Survey.Score
			switch d.Survey.Kind {
			case models.SurveyNPS:
				s.LastNPS, s.LastNPSAt = &score, &at
			case models.SurveyCSAT:
				s.LastCSAT, s.LastCSATAt = &score, &at
			}
		case models.ComplaintOpened:
			if c := d.Complaint; c != nil && c.ID != "" {
				if _, seen := opened[c.ID]; !seen {
					opened[c.ID] = i
				}
			}
		case models.ComplaintResolved:
			if c := d.Complaint; c != nil && c.ID != "" {
				resolved[c.ID] = true
			}
		}
	}
	for id, i := range opened {
		if resolved[id] {
			continue
		}
		s.OpenComplaints++
		if at := evs[i].OccurredAt(); s.OpenComplaintSince == nil || at.Before(*s.OpenComplaintSince) {
			s.OpenComplaintSince = &at
		}
	}
	return s
}
