package dispatch

import (
	"slices"
	"testing"
	"time"
)

func TestBreaker(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	b := newBreakers(BreakerConfig{Failures: 3, Cooldown: time.Minute})
	const shop, other = 1, 2
	allowed := func(shop int64, now time.Time) bool {
		t.Helper()
		ok, trial, _ := b.allow(shop, now)
		if trial {
			t.Fatalf("unexpected trial for shop %d", shop)
		}
		return ok
	}

	t.Run("SuccessResets", func(t *testing.T) {
		b.report(shop, t0, false, breakerFailure)
		b.report(shop, t0, false, breakerFailure)
		b.report(shop, t0, false, breakerSuccess)
		if b.report(shop, t0, false, breakerFailure) || !allowed(shop, t0) {
			t.Fatal("failures are not consecutive; the breaker must stay closed")
		}
		b.report(shop, t0, false, breakerSuccess)
	})
	t.Run("Opens", func(t *testing.T) {
		for i := range 3 {
			if opened := b.report(shop, t0, false, breakerFailure); opened != (i == 2) {
				t.Fatalf("failure %d: opened=%v", i+1, opened)
			}
		}
		if ok, _, until := b.allow(shop, t0.Add(59*time.Second)); ok || !until.Equal(t0.Add(time.Minute)) {
			t.Fatalf("open breaker: ok=%v until=%v", ok, until)
		}
		if !allowed(other, t0) {
			t.Fatal("another shop is held back")
		}
		if got := b.blocked(t0); !slices.Equal(got, []int64{shop}) {
			t.Fatalf("blocked %v", got)
		}
	})
	t1 := t0.Add(time.Minute)
	t.Run("HalfOpenTrialFails", func(t *testing.T) {
		if got := b.blocked(t1); len(got) != 0 {
			t.Fatalf("half-open shop blocked before its trial: %v", got)
		}
		ok, trial, _ := b.allow(shop, t1)
		if !ok || !trial {
			t.Fatalf("half-open: ok=%v trial=%v, want one trial", ok, trial)
		}
		if allowed(shop, t1) {
			t.Fatal("a second call went out during the trial")
		}
		if got := b.blocked(t1); !slices.Equal(got, []int64{shop}) {
			t.Fatalf("blocked during trial %v", got)
		}
		if !b.report(shop, t1, true, breakerFailure) {
			t.Fatal("a failed trial must open the breaker again")
		}
		if allowed(shop, t1.Add(30*time.Second)) {
			t.Fatal("allowed during the second cool-down")
		}
	})
	t2 := t1.Add(time.Minute)
	t.Run("HalfOpenTrialNeutral", func(t *testing.T) {
		if ok, trial, _ := b.allow(shop, t2); !ok || !trial {
			t.Fatal("no trial")
		}
		b.report(shop, t2, true, breakerNeutral)
		if ok, trial, _ := b.allow(shop, t2); !ok || !trial {
			t.Fatal("an abandoned trial must make room for another")
		}
	})
	t.Run("HalfOpenTrialSucceeds", func(t *testing.T) {
		b.report(shop, t2, true, breakerSuccess)
		for range 5 {
			if !allowed(shop, t2) {
				t.Fatal("closed breaker holds calls back")
			}
		}
	})
	t.Run("Disabled", func(t *testing.T) {
		d := newBreakers(BreakerConfig{Failures: -1, Cooldown: time.Minute})
		for range 100 {
			d.report(shop, t0, false, breakerFailure)
		}
		if ok, _, _ := d.allow(shop, t0); !ok || len(d.blocked(t0)) != 0 {
			t.Fatal("a disabled breaker opened")
		}
	})
}

func TestRateLimiter(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	l := newRateLimiter(RateLimitConfig{Rate: 10, Burst: 2})
	waits := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond}
	for i, want := range waits {
		if got := l.reserve(1, t0); got != want {
			t.Fatalf("reservation %d waits %v, want %v", i, got, want)
		}
	}
	if got := l.reserve(2, t0); got != 0 {
		t.Fatalf("another shop waits %v", got)
	}
	l.cancel(1) // the 200 ms one gave up
	if got := l.reserve(1, t0); got != 200*time.Millisecond {
		t.Fatalf("after cancel: %v, want 200ms", got)
	}
	// A quiet second refills the bucket to its burst, not beyond.
	t1 := t0.Add(10 * time.Second)
	for i, want := range []time.Duration{0, 0, 100 * time.Millisecond} {
		if got := l.reserve(1, t1); got != want {
			t.Fatalf("after refill, reservation %d waits %v, want %v", i, got, want)
		}
	}
	if u := newRateLimiter(RateLimitConfig{Rate: -1}); u.reserve(1, t0)+u.reserve(1, t0) != 0 {
		t.Fatal("an unlimited limiter made a caller wait")
	}
}
