package dispatch

import (
	"time"

	"github.com/treue/treue/egress"
)

// Backoff spaces the attempts of an action: exponential from Base, capped at
// Cap, with full jitter (the wait is uniform in [0, ceiling)), so that shops
// recovering from an outage are not hit by every retry at once.
type Backoff struct {
	Base time.Duration
	Cap  time.Duration
}

// DefaultBackoff spreads DefaultMaxAttempts over about a day: the ceilings of
// the nine waits are 10m, 20m, 40m, … 5h20m, 6h, 6h, 6h (28.8 h in all), so
// with full jitter the tenth attempt comes after about 14 h on average and
// 29 h at most.
var DefaultBackoff = Backoff{Base: 10 * time.Minute, Cap: 6 * time.Hour}

// DefaultMaxAttempts is how many calls an action gets before it is dead.
const DefaultMaxAttempts = 10

// Ceiling is the longest wait after failures failed attempts (failures >= 1):
// min(Cap, Base·2^(failures-1)). It is computed with integer shifts and a
// capped exponent, so no attempt count overflows.
func (b Backoff) Ceiling(failures int) time.Duration {
	if b.Base <= 0 || b.Cap <= 0 {
		return max(b.Base, 0)
	}
	exp := min(max(failures-1, 0), 62)
	if b.Base > b.Cap>>exp {
		return b.Cap
	}
	return min(b.Base<<exp, b.Cap)
}

// Delay is the wait after failures failed attempts, with r uniform in [0, 1)
// choosing the point in [0, Ceiling).
func (b Backoff) Delay(failures int, r float64) time.Duration {
	r = min(max(r, 0), 1)
	return time.Duration(r * float64(b.Ceiling(failures)))
}

// retryDelay is Delay with the shop's Retry-After (429, 503) as a lower bound,
// capped at egress.MaxRetryAfter as egress caps the header it parses.
func (b Backoff) retryDelay(failures int, r float64, retryAfter time.Duration) time.Duration {
	return max(b.Delay(failures, r), min(retryAfter, egress.MaxRetryAfter))
}
