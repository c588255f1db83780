package journey

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/treue/treue/models"
)

func TestBuild_Satisfaction(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	day := func(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }
	score := func(n int) *int { return &n }
	c := models.CustomerRef{ID: "c-1"}
	ev := func(typ models.EventType, at time.Time, d models.EventData) models.Event {
		d.Customer = c
		return models.Event{Type: typ, Timestamp: at, Data: d}
	}
	complaint := func(id string) models.EventData { return models.EventData{Complaint: &models.Complaint{ID: id}} }
	events := []models.Event{
		ev(models.ReviewSubmitted, day(1), models.EventData{Review: &models.Review{Rating: 1}}),
		ev(models.ReviewSubmitted, day(3), models.EventData{Review: &models.Review{Rating: 4}}),
		ev(models.SurveyAnswered, day(2), models.EventData{Survey: &models.Survey{Kind: "nps", Score: score(0)}}),
		ev(models.SurveyAnswered, day(4), models.EventData{Survey: &models.Survey{Kind: "csat", Score: score(2)}}),
		ev(models.ComplaintOpened, day(5), complaint("k-1")),
		// k-2's resolution happened (and arrives) before its opening: still netted.
		ev(models.ComplaintResolved, day(6), complaint("k-2")),
		ev(models.ComplaintOpened, day(7), complaint("k-2")),
		ev(models.ComplaintOpened, day(8), complaint("k-3")),
		ev(models.ComplaintOpened, day(9), complaint("k-3")), // delivered again
		ev(models.ComplaintResolved, day(10), complaint("k-1")),
		ev(models.ComplaintOpened, day(11), models.EventData{Complaint: &models.Complaint{}}), // no id: cannot be resolved
	}
	want := func(t *testing.T, p models.Profile) {
		t.Helper()
		s := p.Satisfaction
		if s.LastRating != 4 || !s.LastRatingAt.Equal(day(3)) {
			t.Errorf("last rating %d at %v, want the later 4", s.LastRating, s.LastRatingAt)
		}
		if s.LastNPS == nil || *s.LastNPS != 0 || !s.LastNPSAt.Equal(day(2)) {
			t.Errorf("last NPS %v at %v, want 0 (a valid answer)", s.LastNPS, s.LastNPSAt)
		}
		if s.LastCSAT == nil || *s.LastCSAT != 2 {
			t.Errorf("last CSAT %v", s.LastCSAT)
		}
		if s.OpenComplaints != 1 || !s.OpenComplaintSince.Equal(day(8)) {
			t.Errorf("open complaints %d since %v, want k-3 since day 8", s.OpenComplaints, s.OpenComplaintSince)
		}
	}
	want(t, Build(events, day(12), DefaultOptions))
	// Arrival order does not matter.
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		shuffled := append([]models.Event(nil), events...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		want(t, Build(shuffled, day(12), DefaultOptions))
	}
	if s := Build(nil, day(12), DefaultOptions).Satisfaction; s.LastNPS != nil || s.LastRatingAt != nil || s.OpenComplaints != 0 {
		t.Errorf("no signals: %+v", s)
	}
}
