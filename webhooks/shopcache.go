package webhooks

import (
	"context"
	"sync"
	"time"

	"github.com/treue/treue/models"
)

// ShopCache keeps shops found by the intake for a short time, so that a
// busy shop's deliveries do not each read (and decrypt) its row. Misses are
// not cached, so a new shop works at once; a delivery that fails to verify
// against a cached shop is checked once more against the stored one
// (Intake.Receive), so a rotated secret works at once too.
type ShopCache struct {
	Shops ShopFinder
	TTL   time.Duration
	Now   func() time.Time

	mu      sync.Mutex
	entries map[string]cachedShop
}

type cachedShop struct {
	shop *models.Shop
	at   time.Time
}

func (c *ShopCache) lookup(ctx context.Context, k string, load func() (*models.Shop, error)) (*models.Shop, error) {
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if ok && c.Now().Sub(e.at) <= c.TTL {
		return e.shop, nil
	}
	s, err := load()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]cachedShop{}
	}
	c.entries[k] = cachedShop{s, c.Now()}
	c.mu.Unlock()
	return s, nil
}

// ShopByKey implements ShopFinder.
func (c *ShopCache) ShopByKey(ctx context.Context, key string) (*models.Shop, error) {
	return c.lookup(ctx, "k\x00"+key, func() (*models.Shop, error) { return c.Shops.ShopByKey(ctx, key) })
}

// ShopByExternalID implements ShopFinder.
func (c *ShopCache) ShopByExternalID(ctx context.Context, p models.Platform, id string) (*models.Shop, error) {
	return c.lookup(ctx, "x\x00"+string(p)+"\x00"+id, func() (*models.Shop, error) { return c.Shops.ShopByExternalID(ctx, p, id) })
}

// Forget drops a shop from the cache.
func (c *ShopCache) Forget(s *models.Shop) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, "k\x00"+s.Key)
	delete(c.entries, "x\x00"+string(s.Platform)+"\x00"+s.ExternalID)
}
