package reports

import (
	"math"
	"testing"
)

// TestDiffInterval checks Newcombe's worked examples (Statistics in
// Medicine 17, 1998, table II, method 10).
func TestDiffInterval(t *testing.T) {
	for _, c := range []struct {
		x1, n1, x2, n2 int
		lo, hi         float64
	}{
		{56, 70, 48, 80, 0.0524, 0.3339},
		{9, 10, 3, 10, 0.1705, 0.8090},
		{0, 10, 0, 20, -0.1611, 0.2775},
	} {
		lo, hi := diffInterval(c.x1, c.n1, c.x2, c.n2, 0.95)
		if math.Abs(lo-c.lo) > 0.0006 || math.Abs(hi-c.hi) > 0.0006 {
			t.Errorf("%d/%d vs %d/%d: (%.4f, %.4f), want (%.4f, %.4f)", c.x1, c.n1, c.x2, c.n2, lo, hi, c.lo, c.hi)
		}
	}
}
