package nearest

import "testing"

func TestNearest(t *testing.T) {
	for _, c := range []struct {
		got   string
		known []string
		best  string
		dist  int
	}{
		{"adress", []string{"addr", "public_url"}, "addr", 4},
		{"quiethours", []string{"quiet_hours", "holdout"}, "quiet_hours", 1},
		{"order.payed", []string{"order.paid", "order.placed"}, "order.paid", 2},
		{"ab", []string{"xb", "ax"}, "xb", 1}, // the first of equals
		{"x", nil, "", -1},
	} {
		if best, dist := Name(c.got, c.known); best != c.best || dist != c.dist {
			t.Errorf("Name(%q) = %q, %d; want %q, %d", c.got, best, dist, c.best, c.dist)
		}
	}
	if d := Distance("", "abc"); d != 3 {
		t.Errorf("Distance to empty = %d", d)
	}
}
