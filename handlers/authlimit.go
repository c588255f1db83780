package handlers

import (
	"log/slog"
	"math"
	"net/netip"
	"sync"
	"time"
)

// AuthFailureLimit bounds the failed webhook authentications (an unknown
// shop, a wrong or missing signature, a stale timestamp) per client address,
// with a token bucket each. While an address has none left, its deliveries
// are still verified, but only for shops Treue knows, and a failure is
// answered 429 with Retry-After instead of 401; a delivery that verifies is
// accepted as ever. Successful deliveries take nothing from the bucket.
type AuthFailureLimit struct {
	// Rate is how many failures per second an address earns back; 0 turns
	// the limit off.
	Rate float64
	// Burst is how many failures in a row an address may have.
	Burst int
	// Clients bounds the addresses tracked at once (memory); addresses past
	// it share one bucket until tracked ones have earned their burst back.
	Clients int
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// failureLimiter keeps AuthFailureLimit's buckets. Only failures create
// one, so a sender that authenticates costs no memory.
type failureLimiter struct {
	cfg AuthFailureLimit
	log *slog.Logger

	mu        sync.Mutex
	buckets   map[string]*failureBucket
	shared    failureBucket // for addresses past cfg.Clients
	lastSweep time.Time
}

type failureBucket struct {
	tokens float64
	at     time.Time
	// dry is set once the bucket ran out, so that is logged once.
	dry bool
}

func newFailureLimiter(cfg AuthFailureLimit, log *slog.Logger) *failureLimiter {
	if cfg.Rate <= 0 || cfg.Burst < 1 {
		return nil
	}
	if cfg.Clients < 1 {
		cfg.Clients = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &failureLimiter{cfg: cfg, log: log, buckets: map[string]*failureBucket{},
		shared: failureBucket{tokens: float64(cfg.Burst), at: cfg.Now()}}
}

// clientKey is the bucket an address counts against: an IPv4 address, or
// the /64 of an IPv6 address (one host usually has a whole /64 to pick
// from, so counting single IPv6 addresses would limit nothing).
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

func (l *failureLimiter) refill(b *failureBucket, now time.Time) {
	if now.After(b.at) {
		b.tokens = min(float64(l.cfg.Burst), b.tokens+now.Sub(b.at).Seconds()*l.cfg.Rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.dry = false
	}
}

// wait is how long until b has a failure to spend again.
func (l *failureLimiter) wait(b *failureBucket) time.Duration {
	return time.Duration(math.Ceil((1 - b.tokens) / l.cfg.Rate * float64(time.Second)))
}

// limited reports whether key has no failure left, and how long until it
// has one. A nil limiter limits nothing.
func (l *failureLimiter) limited(key string) (bool, time.Duration) {
	if l == nil {
		return false, 0
	}
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) < l.cfg.Clients {
			return false, 0 // no failure recorded
		}
		b = &l.shared
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		return false, 0
	}
	return true, l.wait(b)
}

// fail takes one failure from key's bucket and returns how long until the
// address may fail again (0 while it has failures left).
func (l *failureLimiter) fail(key string) time.Duration {
	if l == nil {
		return 0
	}
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, now)
	l.refill(b, now)
	b.tokens = max(0, b.tokens-1)
	if b.tokens >= 1 {
		return 0
	}
	if !b.dry {
		b.dry = true
		client := key
		if b == &l.shared {
			client = "every address past http.auth_failure_clients"
		}
		l.log.Warn("webhook authentications from one address keep failing: its failures are answered 429 until it fails less often",
			"client", client, "burst", l.cfg.Burst, "per_second", l.cfg.Rate)
	}
	return l.wait(b)
}

// bucket returns key's bucket, making one. With cfg.Clients tracked, the
// buckets that have earned their burst back (they hold nothing a new one
// would not) are swept out, at most once a second so that a flood of new
// addresses cannot make each failure scan the table; failing that, key
// shares the overflow bucket.
func (l *failureLimiter) bucket(key string, now time.Time) *failureBucket {
	if b := l.buckets[key]; b != nil {
		return b
	}
	if len(l.buckets) >= l.cfg.Clients && now.Sub(l.lastSweep) >= time.Second {
		l.lastSweep = now
		for k, b := range l.buckets {
			if l.refill(b, now); b.tokens >= float64(l.cfg.Burst) {
				delete(l.buckets, k)
			}
		}
	}
	if len(l.buckets) >= l.cfg.Clients {
		return &l.shared
	}
	b := &failureBucket{tokens: float64(l.cfg.Burst), at: now}
	l.buckets[key] = b
	return b
}
