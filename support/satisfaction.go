package support

import (
	"fmt"
	"strings"

	"github.com/treue/treue/models"
)

func surveyAnswered(d *models.EventData, _ string) string {
	s := d.Survey
	if s == nil || s.Score == nil {
		return "Survey answered"
	}
	scale := map[string]string{models.SurveyNPS: "/10", models.SurveyCSAT: "/5"}[s.Kind]
	out := fmt.Sprintf("Survey answered: %s %d%s", strings.ToUpper(s.Kind), *s.Score, scale)
	if s.Comment != "" {
		out += ": " + s.Comment
	}
	return out
}

func complaintResolved(d *models.EventData, _ string) string {
	if d.Complaint != nil && d.Complaint.ID != "" {
		return "Complaint " + d.Complaint.ID + " resolved"
	}
	return "Complaint resolved"
}

// unhappyPrefix starts the reason of an action the unhappy-customer gate
// held back or withdrew (rules/unhappy.go).
const unhappyPrefix = "unhappy_customer: "

// unhappyWhy adds to an action's why which satisfaction signal held it back
// and until when, so that support can answer "why did I get no code?".
func unhappyWhy(a *models.Action) string {
	signal, ok := strings.CutPrefix(a.Reason, unhappyPrefix)
	if !ok || (a.Status != models.ActionSuppressed && a.Status != models.ActionCancelled) {
		return ""
	}
	verb := "held back"
	if a.Status == models.ActionCancelled {
		verb = "withdrawn"
	}
	if !strings.Contains(signal, ", until ") {
		signal += ", until it is resolved"
	}
	return "; " + verb + " while the customer is unhappy: " + signal
}
