package process

import (
	"testing"
	"time"
)

// TestRestockHint: the first round looks, later rounds only after a stock
// event was noted or once restockRecheck has passed.
func TestRestockHint(t *testing.T) {
	var h restockHint
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for i, c := range []struct {
		at   time.Duration
		note bool
		want bool
	}{
		{0, false, true},                // the first round
		{time.Second, false, false},     // nothing new
		{2 * time.Second, true, true},   // a stock event was processed
		{3 * time.Second, false, false}, // consumed
		{restockRecheck + time.Second, false, false},
		{restockRecheck + 2*time.Second, false, true}, // a minute after the last look
	} {
		if c.note {
			h.note()
		}
		if got := h.due(t0.Add(c.at)); got != c.want {
			t.Errorf("round %d at +%v: due = %v, want %v", i, c.at, got, c.want)
		}
	}
}
