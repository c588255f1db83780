package dispatch

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/treue/treue/egress"
)

func TestBackoff_Ceiling(t *testing.T) {
	b := Backoff{Base: time.Minute, Cap: 6 * time.Hour}
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, time.Minute}, {1, time.Minute}, {2, 2 * time.Minute}, {3, 4 * time.Minute},
		{9, 256 * time.Minute}, {10, 6 * time.Hour}, {63, 6 * time.Hour}, {64, 6 * time.Hour},
		{1000, 6 * time.Hour}, {math.MaxInt, 6 * time.Hour},
	}
	for _, tt := range tests {
		if got := b.Ceiling(tt.failures); got != tt.want {
			t.Errorf("Ceiling(%d) = %v, want %v", tt.failures, got, tt.want)
		}
	}
	// The largest durations must not overflow: an hour doubled 22 times
	// already exceeds the largest Duration, so from there on the ceiling is
	// the cap itself. Base<<exp without the guard would wrap around to a
	// negative or a smaller duration instead.
	huge := Backoff{Base: time.Hour, Cap: math.MaxInt64}
	for _, n := range []int{23, 30, 40, 62, 63, 64, 100, math.MaxInt} {
		if got := huge.Ceiling(n); got != huge.Cap {
			t.Errorf("huge Ceiling(%d) = %v, want the cap %v", n, got, huge.Cap)
		}
		if got := huge.Delay(n, 0.999999999); got < 0 || got > huge.Cap {
			t.Errorf("huge Delay(%d) = %v, want within [0, %v]", n, got, huge.Cap)
		}
	}
	// Below the cap the ceiling keeps doubling, and it never shrinks.
	prev := time.Duration(0)
	for n := 1; n <= 100; n++ {
		got := huge.Ceiling(n)
		if got < prev {
			t.Fatalf("huge Ceiling(%d) = %v, below Ceiling(%d) = %v", n, got, n-1, prev)
		}
		if n <= 22 && got != time.Hour<<(n-1) {
			t.Fatalf("huge Ceiling(%d) = %v, want %v", n, got, time.Hour<<(n-1))
		}
		prev = got
	}
}

func TestBackoff_DelayFullJitter(t *testing.T) {
	b := Backoff{Base: time.Minute, Cap: 6 * time.Hour}
	if got := b.Delay(3, 0); got != 0 {
		t.Fatalf("r=0: %v, want 0", got)
	}
	if got := b.Delay(3, 0.5); got != 2*time.Minute {
		t.Fatalf("r=0.5: %v, want 2m", got)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 40; n++ {
		ceil := b.Ceiling(n)
		var lo, hi time.Duration = ceil, 0
		for range 200 {
			d := b.Delay(n, r.Float64())
			if d < 0 || d >= ceil {
				t.Fatalf("Delay(%d) = %v outside [0, %v)", n, d, ceil)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		// Full jitter: the draws spread over the whole range.
		if lo > ceil/10 || hi < ceil*9/10 {
			t.Fatalf("Delay(%d) draws span only [%v, %v] of [0, %v)", n, lo, hi, ceil)
		}
	}
}

func TestBackoff_RetryAfter(t *testing.T) {
	b := Backoff{Base: time.Minute, Cap: time.Hour}
	if got := b.retryDelay(1, 0.5, 2*time.Hour); got != 2*time.Hour {
		t.Errorf("Retry-After above the backoff: %v, want 2h", got)
	}
	if got := b.retryDelay(5, 0.5, time.Second); got != 8*time.Minute {
		t.Errorf("Retry-After below the backoff: %v, want 8m", got)
	}
	if got := b.retryDelay(1, 0, 365*24*time.Hour); got != egress.MaxRetryAfter {
		t.Errorf("absurd Retry-After: %v, want %v", got, egress.MaxRetryAfter)
	}
}

// TestDefaultBackoff checks that the default attempts span about a day.
func TestDefaultBackoff(t *testing.T) {
	var span time.Duration
	for n := 1; n < DefaultMaxAttempts; n++ {
		span += DefaultBackoff.Ceiling(n)
	}
	if span < 20*time.Hour || span > 36*time.Hour {
		t.Fatalf("the %d default attempts span at most %v, want about a day", DefaultMaxAttempts, span)
	}
}
