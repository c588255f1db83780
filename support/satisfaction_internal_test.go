package support

import (
	"testing"

	"github.com/treue/treue/models"
)

func TestSummarize_Satisfaction(t *testing.T) {
	four, nine := 4, 9
	tests := []struct {
		name string
		e    models.Event
		want string
	}{
		{"NPS", models.Event{Type: models.SurveyAnswered, Data: models.EventData{Survey: &models.Survey{Kind: "nps", Score: &four, Comment: "slow delivery"}}},
			"Survey answered: NPS 4/10: slow delivery"},
		{"CSAT", models.Event{Type: models.SurveyAnswered, Data: models.EventData{Survey: &models.Survey{Kind: "csat", Score: &nine}}},
			"Survey answered: CSAT 9/5"},
		{"Resolved", models.Event{Type: models.ComplaintResolved, Data: models.EventData{Complaint: &models.Complaint{ID: "k-7"}}},
			"Complaint k-7 resolved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Summarize(&tt.e); got != tt.want {
				t.Fatalf("Summarize = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUnhappyWhy(t *testing.T) {
	tests := []struct {
		status models.ActionStatus
		reason string
		want   string
	}{
		{models.ActionSuppressed, "unhappy_customer: open complaint since 2026-11-30",
			"; held back while the customer is unhappy: open complaint since 2026-11-30, until it is resolved"},
		{models.ActionSuppressed, "unhappy_customer: rating 2 on 2026-11-30, until 2026-12-30",
			"; held back while the customer is unhappy: rating 2 on 2026-11-30, until 2026-12-30"},
		{models.ActionCancelled, "unhappy_customer: NPS 3 on 2026-11-30, until 2026-12-30",
			"; withdrawn while the customer is unhappy: NPS 3 on 2026-11-30, until 2026-12-30"},
		{models.ActionSuppressed, "frequency_cap: 2 per 7d", ""},
		{models.ActionScheduled, "", ""},
	}
	for _, tt := range tests {
		if got := unhappyWhy(&models.Action{Status: tt.status, Reason: tt.reason}); got != tt.want {
			t.Errorf("%s %q: why %q, want %q", tt.status, tt.reason, got, tt.want)
		}
	}
}
