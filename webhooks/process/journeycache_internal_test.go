package process

import (
	"slices"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

func cachedEvents(ids ...int64) ([]store.EventRecord, []models.Event) {
	recs := make([]store.EventRecord, 0, len(ids)+4) // room to append in place
	hist := make([]models.Event, 0, len(ids)+4)
	for _, id := range ids {
		recs = append(recs, store.EventRecord{ID: id, StepKey: "step"})
		hist = append(hist, models.Event{Type: models.OrderPlaced})
	}
	return recs, hist
}

func TestJourneyCache(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	c := &JourneyCache{MaxEvents: 8}
	recs, hist := cachedEvents(3, 5, 9)
	c.put(1, recs, hist, now)
	stamp := store.EventStamp{Count: 3, MaxID: 9}

	got, gotHist, ok := c.get(1, stamp, now.Add(time.Second))
	if !ok || len(got) != 3 || len(gotHist) != 3 {
		t.Fatalf("hit: %v %d", ok, len(got))
	}
	// The slices are shared. The journal inserts into new ones (inserted),
	// and put clipped them besides: even an insert in place does not reach
	// the cache.
	got = slices.Insert(got, 1, store.EventRecord{ID: 99, StepKey: "other"})
	_ = slices.Insert(gotHist, 1, models.Event{Type: models.OrderCancelled})
	_ = append(gotHist, models.Event{Type: models.OrderCancelled})
	if again, againHist, _ := c.get(1, stamp, now); again[1].ID != 5 || againHist[1].Type != models.OrderPlaced || got[1].ID != 99 {
		t.Fatalf("a batch's insert wrote into the cache: %v", again)
	}
	// Another writer's insert or delete changes the stamp: a miss.
	for _, changed := range []store.EventStamp{{Count: 4, MaxID: 12}, {Count: 2, MaxID: 9}, {Count: 3, MaxID: 12}, {}} {
		if _, _, ok := c.get(1, changed, now); ok {
			t.Fatalf("stamp %v answered from the cache", changed)
		}
	}
	// Entries live a minute, and a clock that went back does not use them.
	if _, _, ok := c.get(1, stamp, now.Add(journeyCacheTTL+time.Second)); ok {
		t.Fatal("an expired entry was used")
	}
	if _, _, ok := c.get(1, stamp, now.Add(-time.Second)); ok {
		t.Fatal("an entry from the future was used")
	}
	// A customer without events is kept too.
	c.put(2, nil, nil, now)
	if _, _, ok := c.get(2, store.EventStamp{}, now); !ok {
		t.Fatal("no events: not kept")
	}
	// Events not stored (a provisional id) are never kept.
	recs, hist = cachedEvents(4, firstProvisional+1)
	c.put(3, recs, hist, now)
	if _, _, ok := c.get(3, store.EventStamp{Count: 2, MaxID: firstProvisional + 1}, now); ok {
		t.Fatal("a provisional id was kept")
	}
	// The bound: the oldest go first; nothing larger than the bound is kept.
	for id := int64(10); id < 14; id++ {
		recs, hist = cachedEvents(id*10, id*10+1)
		c.put(id, recs, hist, now.Add(time.Duration(id)*time.Millisecond))
	}
	if c.events > c.MaxEvents {
		t.Fatalf("%d events held, bound %d", c.events, c.MaxEvents)
	}
	if _, _, ok := c.get(13, store.EventStamp{Count: 2, MaxID: 131}, now.Add(20*time.Millisecond)); !ok {
		t.Fatal("the newest entry was evicted")
	}
	recs, hist = cachedEvents(1, 2, 3, 4, 5, 6, 7, 8, 9)
	c.put(20, recs, hist, now)
	if _, _, ok := c.get(20, store.EventStamp{Count: 9, MaxID: 9}, now); ok {
		t.Fatal("an entry above the bound was kept")
	}
	// Sweep drops what expired, so erased customers' data leaves memory.
	c.Sweep(now.Add(2 * journeyCacheTTL))
	if len(c.entries) != 0 || c.events != 0 {
		t.Fatalf("after the sweep: %d entries, %d events", len(c.entries), c.events)
	}
	if hits, misses := c.Stats(); hits < 3 || misses < 6 {
		t.Fatalf("stats %d hits, %d misses", hits, misses)
	}
	var off *JourneyCache // nil: no cache
	off.put(1, recs, hist, now)
	off.Sweep(now)
	if _, _, ok := off.get(1, stamp, now); ok {
		t.Fatal("a nil cache answered")
	}
}
