package handlers

import (
	"log/slog"
	"strconv"
	"testing"
	"time"
)

type testClock struct{ t time.Time }

func (c *testClock) now() time.Time               { return c.t }
func (c *testClock) add(d time.Duration)          { c.t = c.t.Add(d) }
func newTestClock() *testClock                    { return &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }
func discard() *slog.Logger                       { return slog.New(slog.DiscardHandler) }
func limitedNow(l *failureLimiter, k string) bool { ok, _ := l.limited(k); return ok }

// TestFailureLimiter: Burst failures in a row, then one per 1/Rate; the
// wait until the next is what Retry-After says.
func TestFailureLimiter(t *testing.T) {
	clock := newTestClock()
	l := newFailureLimiter(AuthFailureLimit{Rate: 0.5, Burst: 3, Clients: 10, Now: clock.now}, discard())
	for i := range 3 {
		if limitedNow(l, "192.0.2.1") {
			t.Fatalf("limited after %d failures", i)
		}
		wait := l.fail("192.0.2.1")
		if (i < 2) != (wait == 0) {
			t.Fatalf("failure %d: wait %v", i+1, wait)
		}
	}
	limited, wait := l.limited("192.0.2.1")
	if !limited || wait != 2*time.Second {
		t.Fatalf("after the burst: limited %v, wait %v; want 2s (one failure per 2 s)", limited, wait)
	}
	if limitedNow(l, "192.0.2.2") {
		t.Fatal("another address is limited")
	}
	clock.add(1500 * time.Millisecond)
	if _, wait := l.limited("192.0.2.1"); wait != 500*time.Millisecond {
		t.Fatalf("wait %v, want 500ms", wait)
	}
	clock.add(500 * time.Millisecond)
	if limitedNow(l, "192.0.2.1") {
		t.Fatal("still limited after earning a failure back")
	}
	if l.fail("192.0.2.1") == 0 || !limitedNow(l, "192.0.2.1") {
		t.Fatal("the earned failure did not run it dry again")
	}
	if newFailureLimiter(AuthFailureLimit{Rate: 0, Burst: 3}, discard()) != nil {
		t.Fatal("rate 0 must turn the limit off")
	}
	var off *failureLimiter
	if off.fail("x") != 0 || limitedNow(off, "x") {
		t.Fatal("a nil limiter limits")
	}
}

// TestFailureLimiter_Bounded: however many addresses fail, at most Clients
// buckets are kept; past them addresses share one, and buckets that earned
// their burst back make room.
func TestFailureLimiter_Bounded(t *testing.T) {
	clock := newTestClock()
	l := newFailureLimiter(AuthFailureLimit{Rate: 1, Burst: 2, Clients: 100, Now: clock.now}, discard())
	for i := range 5000 {
		l.fail("10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256))
	}
	if n := len(l.buckets); n != 100 {
		t.Fatalf("%d buckets, want 100", n)
	}
	if !limitedNow(l, "203.0.113.9") {
		t.Fatal("a new address does not share the dry overflow bucket")
	}
	clock.add(3 * time.Second) // every bucket has earned its burst back
	l.fail("203.0.113.9")
	if n := len(l.buckets); n != 1 {
		t.Fatalf("%d buckets after the sweep, want 1", n)
	}
}

func TestClientKey(t *testing.T) {
	for ip, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"fe80::1%eth0":         "fe80::/64",
		"not an address":       "not an address",
	} {
		if got := clientKey(ip); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", ip, got, want)
		}
	}
}
