package dispatch

import (
	"sync"
	"time"
)

// BreakerConfig sets the per-shop circuit breaker: after Failures consecutive
// transient failures a shop's dispatch pauses for Cooldown while other shops
// go on; then one trial call decides whether it closes again.
type BreakerConfig struct {
	// Failures that open the breaker; 0 means 5, negative disables it.
	Failures int
	// Cooldown is how long it stays open; 0 means 1 minute.
	Cooldown time.Duration
}

// breakerResult is what a call tells the breaker.
type breakerResult int

const (
	// breakerSuccess: the shop answered (with success or a permanent error).
	breakerSuccess breakerResult = iota
	// breakerFailure: a transient failure (timeout, 5xx, 429).
	breakerFailure
	// breakerNeutral: no verdict on the shop (the call was abandoned).
	breakerNeutral
)

// breakers holds one breaker per shop. The state lives in this process: each
// replica learns about a failing shop on its own, which takes at most
// Failures calls per replica.
type breakers struct {
	cfg BreakerConfig
	mu  sync.Mutex
	m   map[int64]*breakerState
}

// breakerState is closed when openUntil is zero, open before openUntil, and
// half-open from openUntil on: then one trial call is let through.
type breakerState struct {
	failures  int
	openUntil time.Time
	trial     bool
}

func newBreakers(cfg BreakerConfig) *breakers {
	return &breakers{cfg: cfg, m: map[int64]*breakerState{}}
}

func (b *breakers) disabled() bool { return b.cfg.Failures < 0 }

// blocked lists the shops whose actions must not be claimed at now: open, or
// half-open with the trial under way.
func (b *breakers) blocked(now time.Time) []int64 {
	if b.disabled() {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []int64
	for id, st := range b.m {
		if st.openUntil.IsZero() {
			continue
		}
		if now.Before(st.openUntil) || st.trial {
			out = append(out, id)
		}
	}
	return out
}

// heldUntil reports, without changing anything, whether the breaker holds
// shop's calls back at now, and until when.
func (b *breakers) heldUntil(shop int64, now time.Time) (time.Time, bool) {
	if b.disabled() {
		return time.Time{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.m[shop]
	switch {
	case st == nil || st.openUntil.IsZero():
		return time.Time{}, false
	case now.Before(st.openUntil):
		return st.openUntil, true
	case st.trial:
		return now.Add(b.cfg.Cooldown), true
	}
	return time.Time{}, false
}

// allow reports whether a call to shop may go out at now; trial says it is
// the half-open trial, which must be reported. When it may not, until is when
// to look again.
func (b *breakers) allow(shop int64, now time.Time) (ok, trial bool, until time.Time) {
	if b.disabled() {
		return true, false, time.Time{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.m[shop]
	switch {
	case st == nil || st.openUntil.IsZero():
		return true, false, time.Time{}
	case now.Before(st.openUntil):
		return false, false, st.openUntil
	case st.trial:
		return false, false, now.Add(b.cfg.Cooldown)
	}
	st.trial = true
	return true, true, time.Time{}
}

// report records a call's result; it returns true when the call opened the
// breaker.
func (b *breakers) report(shop int64, now time.Time, trial bool, r breakerResult) (opened bool) {
	if b.disabled() {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.m[shop]
	if st == nil {
		if r != breakerFailure {
			return false
		}
		st = &breakerState{}
		b.m[shop] = st
	}
	if trial {
		st.trial = false
	}
	switch r {
	case breakerSuccess:
		if trial || st.openUntil.IsZero() {
			// A success while open comes from a call that started before
			// it opened; only the trial closes it.
			delete(b.m, shop)
		}
	case breakerFailure:
		st.failures++
		if trial || (st.openUntil.IsZero() && st.failures >= b.cfg.Failures) {
			st.openUntil = now.Add(b.cfg.Cooldown)
			return true
		}
	}
	return false
}
