package process

import (
	"slices"
	"sync"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

// Defaults of JourneyCache.
const (
	DefaultJourneyCacheEvents = 20000
	journeyCacheTTL           = time.Minute
)

// JourneyCache keeps customers' stored events, decoded, between batches, so
// that a customer whose deliveries follow one another (placed, paid,
// shipped; an import's pages) is not read and decoded again for each batch.
//
// An entry is used only when the events' stamp (store.EventStamps: their
// count and highest id), read in the batch's transaction with the customer
// locked, still matches: whoever wrote or deleted events meanwhile, on any
// replica (processing, the restock notices and cart pass, retention,
// erasure), changed the stamp, and the events are read again. Only events
// are kept; profiles, actions, points and opt-outs, which other writers
// change in place, are read for every batch.
//
// Entries hold personal data: they live at most a minute (journeyCacheTTL),
// and Sweep, which the processor calls every round, drops expired ones, so
// that an erased customer's events leave memory within a minute too.
type JourneyCache struct {
	// MaxEvents bounds the events held (0: DefaultJourneyCacheEvents).
	MaxEvents int

	mu      sync.Mutex
	entries map[int64]*cachedJourney
	events  int // held, over all entries
	swept   time.Time
	hits    int64
	misses  int64
}

type cachedJourney struct {
	stamp   store.EventStamp
	records []store.EventRecord
	history []models.Event
	at      time.Time
}

func (c *JourneyCache) maxEvents() int {
	if c.MaxEvents > 0 {
		return c.MaxEvents
	}
	return DefaultJourneyCacheEvents
}

// get returns the customer's events if the cache holds them under stamp.
// They are shared, not copied: the journal never writes into its slices
// (it inserts into new ones), nor does anything write to a stored or
// decoded event in place.
func (c *JourneyCache) get(id int64, stamp store.EventStamp, now time.Time) ([]store.EventRecord, []models.Event, bool) {
	if c == nil {
		return nil, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[id]
	if e == nil || e.stamp != stamp || now.Sub(e.at) > journeyCacheTTL || now.Before(e.at) {
		c.misses++
		return nil, nil, false
	}
	c.hits++
	return e.records, e.history, true
}

// put keeps a customer's events as a committed transaction left them.
func (c *JourneyCache) put(id int64, records []store.EventRecord, history []models.Event, now time.Time) {
	if c == nil || len(records) != len(history) {
		return
	}
	st := store.EventStamp{Count: len(records)}
	for i := range records {
		if provisional(records[i].ID) || records[i].ID == 0 {
			c.drop(id)
			return
		}
		st.MaxID = max(st.MaxID, records[i].ID)
	}
	n := max(len(records), 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[int64]*cachedJourney{}
	}
	c.remove(id)
	if n > c.maxEvents() {
		return
	}
	if c.events+n > c.maxEvents() {
		c.sweepLocked(now, true)
	}
	c.entries[id] = &cachedJourney{stamp: st, records: slices.Clip(records), history: slices.Clip(history), at: now}
	c.events += n
}

// drop forgets customers, for a writer that knows it changed them.
func (c *JourneyCache) drop(ids ...int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		c.remove(id)
	}
}

func (c *JourneyCache) remove(id int64) {
	if e := c.entries[id]; e != nil {
		c.events -= max(len(e.records), 1)
		delete(c.entries, id)
	}
}

// Sweep drops the expired entries, at most once per TTL.
func (c *JourneyCache) Sweep(now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.swept) < journeyCacheTTL/2 && !now.Before(c.swept) {
		return
	}
	c.sweepLocked(now, false)
}

// sweepLocked drops expired entries and, when room is needed, the oldest
// until a quarter of the bound is free.
func (c *JourneyCache) sweepLocked(now time.Time, room bool) {
	c.swept = now
	for id, e := range c.entries {
		if now.Sub(e.at) > journeyCacheTTL || now.Before(e.at) {
			c.remove(id)
		}
	}
	if !room || c.events <= c.maxEvents()*3/4 {
		return
	}
	type aged struct {
		id int64
		at time.Time
	}
	all := make([]aged, 0, len(c.entries))
	for id, e := range c.entries {
		all = append(all, aged{id, e.at})
	}
	slices.SortFunc(all, func(a, b aged) int { return a.at.Compare(b.at) })
	for _, a := range all {
		if c.events <= c.maxEvents()*3/4 {
			break
		}
		c.remove(a.id)
	}
}

// Stats returns the lookups that found their customer, and those that did
// not, since the cache was made.
func (c *JourneyCache) Stats() (hits, misses int64) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}
