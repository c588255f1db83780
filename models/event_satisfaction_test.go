package models

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidate_Satisfaction(t *testing.T) {
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	score := func(n int) *int { return &n }
	ev := func(typ EventType, d EventData) Event {
		d.Customer = CustomerRef{ID: "c-1"}
		return Event{Type: typ, Timestamp: at, Data: d}
	}
	tests := []struct {
		name  string
		e     Event
		field string // "" when valid
	}{
		{"NPSZero", ev(SurveyAnswered, EventData{Survey: &Survey{Kind: "nps", Score: score(0)}}), ""},
		{"NPSTen", ev(SurveyAnswered, EventData{Survey: &Survey{Kind: "nps", Score: score(10)}}), ""},
		{"NPSEleven", ev(SurveyAnswered, EventData{Survey: &Survey{Kind: "nps", Score: score(11)}}), "data.survey.score"},
		{"CSATZero", ev(SurveyAnswered, EventData{Survey: &Survey{Kind: "csat", Score: score(0)}}), "data.survey.score"},
		{"CSATFive", ev(SurveyAnswered, EventData{Survey: &Survey{Kind: "csat", Score: score(5)}}), ""},
		{"NoScore", ev(SurveyAnswered, EventData{Survey: &Survey{Kind: "nps"}}), "data.survey.score"},
		{"BadKind", ev(SurveyAnswered, EventData{Survey: &Survey{Kind: "ces", Score: score(3)}}), "data.survey.kind"},
		{"NoSurvey", ev(SurveyAnswered, EventData{}), "data.survey"},
		{"ResolvedWithoutID", ev(ComplaintResolved, EventData{Complaint: &Complaint{}}), "data.complaint.id"},
		{"Resolved", ev(ComplaintResolved, EventData{Complaint: &Complaint{ID: "k-1"}}), ""},
		{"RatingSix", ev(ReviewSubmitted, EventData{Review: &Review{Rating: 6}}), "data.review.rating"},
		{"RatingOne", ev(ReviewSubmitted, EventData{Review: &Review{Rating: 1}}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var v *ValidationError
			if !errors.As(err, &v) || len(v.Fields) != 1 || v.Fields[0].Field != tt.field {
				t.Fatalf("Validate = %v, want one error naming %s", err, tt.field)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("error %q does not name %s", err, tt.field)
			}
		})
	}
}

// A resolution delivered twice, with different envelope times, is one step.
func TestStepKey_ComplaintResolved(t *testing.T) {
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	a := Event{Type: ComplaintResolved, Timestamp: at, Data: EventData{Customer: CustomerRef{ID: "c-1"}, Complaint: &Complaint{ID: "k-1"}}}
	b := a
	b.Timestamp = at.Add(time.Hour)
	if a.StepKey() != b.StepKey() {
		t.Fatalf("step keys differ: %q %q", a.StepKey(), b.StepKey())
	}
	b.Data.Complaint = &Complaint{ID: "k-2"}
	if a.StepKey() == b.StepKey() {
		t.Fatalf("two complaints share a step key %q", a.StepKey())
	}
}
