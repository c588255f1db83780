package inbox

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/treue/treue/models"
)

// Defaults of ShopCache's zero fields.
const (
	DefaultMissTTL    = 5 * time.Second
	DefaultMaxMisses  = 10000
	DefaultMinRefresh = time.Second
)

// ErrLookupRefused is a lookup that OnlyKnownShops kept from the store: the
// shop is not known to exist, and the caller asked not to look for it.
var ErrLookupRefused = errors.New("webhooks: shop not looked up for a sender that failed to authenticate too often")

type onlyKnownKey struct{}

// OnlyKnownShops marks ctx so that ShopCache reads from the store only shops
// it knows to exist (cached, or found or preloaded before); any other key is
// answered with ErrLookupRefused, without a statement. The HTTP layer uses it
// for senders that failed to authenticate too often: a shop's own deliveries
// still find the shop, while made-up keys cost nothing.
func OnlyKnownShops(ctx context.Context) context.Context {
	return context.WithValue(ctx, onlyKnownKey{}, true)
}

func onlyKnown(ctx context.Context) bool {
	v, _ := ctx.Value(onlyKnownKey{}).(bool)
	return v
}

// ShopCache keeps shops found by the intake for a short time, so that a
// busy shop's deliveries do not each read (and decrypt) its row. A delivery
// that fails to verify against a cached shop is checked once more against
// the stored one (Intake.Receive calls Forget), so a rotated secret works at
// once too; but not more often than MinRefresh per shop, so that a stream of
// forged signatures does not cost a statement each.
//
// Misses are cached too, for MissTTL and at most MaxMisses of them, so that
// deliveries for a shop that does not exist do not cost a statement each; a
// shop added meanwhile is found once its miss expires.
type ShopCache struct {
	Shops ShopFinder
	TTL   time.Duration
	// MissTTL is how long "no such shop" is remembered (0: DefaultMissTTL;
	// negative: misses are not cached).
	MissTTL time.Duration
	// MaxMisses bounds the remembered misses, so that made-up keys cannot
	// grow memory without limit (0: DefaultMaxMisses).
	MaxMisses int
	// MinRefresh is how soon after reading a shop Forget may have it read
	// again (0: DefaultMinRefresh).
	MinRefresh time.Duration
	Now        func() time.Time

	mu      sync.Mutex
	entries map[string]cachedShop
	misses  map[string]time.Time // key → when the store said not found
	// known are the keys of shops that existed when last looked up or
	// preloaded. Only the store adds to it, so it is as big as the number
	// of shops, whatever senders make up.
	known map[string]bool
}

type cachedShop struct {
	shop *models.Shop
	at   time.Time
}

func (c *ShopCache) missTTL() time.Duration {
	if c.MissTTL == 0 {
		return DefaultMissTTL
	}
	return c.MissTTL
}

func (c *ShopCache) init() {
	if c.entries == nil {
		c.entries, c.misses, c.known = map[string]cachedShop{}, map[string]time.Time{}, map[string]bool{}
	}
}

func (c *ShopCache) lookup(ctx context.Context, k string, load func() (*models.Shop, error)) (*models.Shop, error) {
	now := c.Now()
	c.mu.Lock()
	c.init()
	e, hit := c.entries[k]
	missedAt, missed := c.misses[k]
	known := c.known[k]
	c.mu.Unlock()
	if hit && now.Sub(e.at) <= c.TTL {
		return e.shop, nil
	}
	if missed && now.Sub(missedAt) <= c.missTTL() {
		return nil, models.ErrNotFound
	}
	if !known && onlyKnown(ctx) {
		return nil, ErrLookupRefused
	}
	s, err := load()
	if errors.Is(err, models.ErrNotFound) {
		c.rememberMiss(k, now)
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.entries[k] = cachedShop{s, now}
	delete(c.misses, k)
	c.known[k] = true
	c.mu.Unlock()
	return s, nil
}

// rememberMiss records that k was not found. When MaxMisses are recorded the
// expired ones go first, then an arbitrary one: the bound holds however many
// keys senders make up, and the newest miss is the likeliest to recur.
func (c *ShopCache) rememberMiss(k string, now time.Time) {
	ttl := c.missTTL()
	if ttl < 0 {
		return
	}
	limit := c.MaxMisses
	if limit <= 0 {
		limit = DefaultMaxMisses
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.misses[k]; !ok && len(c.misses) >= limit {
		for key, at := range c.misses {
			if now.Sub(at) > ttl {
				delete(c.misses, key)
			}
		}
		for key := range c.misses {
			if len(c.misses) < limit {
				break
			}
			delete(c.misses, key)
		}
	}
	c.misses[k] = now
}

func keyOf(key string) string { return "k\x00" + key }

func externalKeyOf(p models.Platform, id string) string { return "x\x00" + string(p) + "\x00" + id }

// ShopByKey implements ShopFinder.
func (c *ShopCache) ShopByKey(ctx context.Context, key string) (*models.Shop, error) {
	return c.lookup(ctx, keyOf(key), func() (*models.Shop, error) { return c.Shops.ShopByKey(ctx, key) })
}

// ShopByExternalID implements ShopFinder.
func (c *ShopCache) ShopByExternalID(ctx context.Context, p models.Platform, id string) (*models.Shop, error) {
	return c.lookup(ctx, externalKeyOf(p, id), func() (*models.Shop, error) { return c.Shops.ShopByExternalID(ctx, p, id) })
}

// Remember marks shops as known to exist, for OnlyKnownShops: serve preloads
// every stored shop, so that a shop's first delivery after a restart is
// looked up even from a sender that is being rate-limited.
func (c *ShopCache) Remember(shops ...*models.Shop) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	for _, s := range shops {
		c.known[keyOf(s.Key)] = true
		if s.ExternalID != "" {
			c.known[externalKeyOf(s.Platform, s.ExternalID)] = true
		}
	}
}

// Forget asks for shop to be read from the store again on its next lookup,
// after a delivery failed to verify against the cached copy. A copy read
// less than MinRefresh ago is kept: reading again would most likely return
// the same row, and a sender of forged signatures could otherwise make every
// delivery cost a statement. Use Drop where the row is known to have changed.
func (c *ShopCache) Forget(s *models.Shop) {
	minRefresh := c.MinRefresh
	if minRefresh == 0 {
		minRefresh = DefaultMinRefresh
	}
	now := c.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range []string{keyOf(s.Key), externalKeyOf(s.Platform, s.ExternalID)} {
		if e, ok := c.entries[k]; ok && now.Sub(e.at) >= minRefresh {
			delete(c.entries, k)
		}
	}
}

// Drop removes shop from the cache at once, for a change Treue made itself
// (an app removed from the shop forgets its secrets).
func (c *ShopCache) Drop(s *models.Shop) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, keyOf(s.Key))
	delete(c.entries, externalKeyOf(s.Platform, s.ExternalID))
}

// Clear empties the cache but for the known keys, for a change Treue made
// itself whose shop it cannot name (a Shopware registration confirmed).
func (c *ShopCache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	clear(c.misses)
}
