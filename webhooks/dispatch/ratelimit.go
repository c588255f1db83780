package dispatch

import (
	"sync"
	"time"
)

// RateLimitConfig bounds the calls into each shop with a token bucket.
type RateLimitConfig struct {
	// Rate is calls per second per shop; 0 means 10, negative means unlimited.
	Rate float64
	// Burst is how many calls may go at once after a quiet spell; 0 means 20.
	Burst int
	// MaxWait is how long a claimed action waits for its turn; an action that
	// would wait longer goes back to the queue, due when its turn comes.
	// 0 means 5 seconds.
	MaxWait time.Duration
}

// rateLimiter keeps one token bucket per shop, in this process. It runs on
// the monotonic clock: it is about real call rates, not the dispatcher's
// (possibly injected) notion of now.
type rateLimiter struct {
	cfg RateLimitConfig
	mu  sync.Mutex
	m   map[int64]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(cfg RateLimitConfig) *rateLimiter {
	return &rateLimiter{cfg: cfg, m: map[int64]*bucket{}}
}

// reserve takes a token from shop's bucket at now and returns how long the
// caller must wait before using it. A token taken ahead of time is owed
// (the bucket goes below zero), so concurrent callers queue in order; a caller
// that does not wait gives its token back with cancel.
func (l *rateLimiter) reserve(shop int64, now time.Time) time.Duration {
	if l.cfg.Rate < 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[shop]
	burst := float64(l.cfg.Burst)
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		l.m[shop] = b
	}
	if now.After(b.last) {
		b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*l.cfg.Rate)
		b.last = now
	}
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / l.cfg.Rate * float64(time.Second))
}

// cancel gives back a token reserve took.
func (l *rateLimiter) cancel(shop int64) {
	if l.cfg.Rate < 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.m[shop]; b != nil {
		b.tokens = min(float64(l.cfg.Burst), b.tokens+1)
	}
}
