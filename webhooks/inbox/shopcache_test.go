package inbox_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/standard"
	"github.com/treue/treue/webhooks/inbox"
)

// countingFinder counts the lookups that reach the store.
type countingFinder struct {
	inbox.ShopFinder
	mu sync.Mutex
	n  int
}

func (f *countingFinder) ShopByKey(ctx context.Context, key string) (*models.Shop, error) {
	f.mu.Lock()
	f.n++
	f.mu.Unlock()
	return f.ShopFinder.ShopByKey(ctx, key)
}

func (f *countingFinder) ShopByExternalID(ctx context.Context, p models.Platform, id string) (*models.Shop, error) {
	f.mu.Lock()
	f.n++
	f.mu.Unlock()
	return f.ShopFinder.ShopByExternalID(ctx, p, id)
}

func (f *countingFinder) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// mapFinder is a store of shops by key.
type mapFinder map[string]*models.Shop

func (m mapFinder) ShopByKey(_ context.Context, key string) (*models.Shop, error) {
	if s, ok := m[key]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("shop %s: %w", key, models.ErrNotFound)
}

func (m mapFinder) ShopByExternalID(_ context.Context, p models.Platform, id string) (*models.Shop, error) {
	for _, s := range m {
		if s.Platform == p && s.ExternalID == id {
			return s, nil
		}
	}
	return nil, models.ErrNotFound
}

func newCache(shops mapFinder) (*inbox.ShopCache, *countingFinder, *storetest.Clock) {
	clock := storetest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	f := &countingFinder{ShopFinder: shops}
	return &inbox.ShopCache{Shops: f, TTL: 2 * time.Second, MissTTL: 5 * time.Second, MaxMisses: 100, Now: clock.Now}, f, clock
}

// TestShopCache_Misses: an unknown shop costs one lookup per MissTTL however
// often it is asked for; a shop added meanwhile is found once the miss expires.
func TestShopCache_Misses(t *testing.T) {
	shops := mapFinder{}
	c, f, clock := newCache(shops)
	ctx := context.Background()
	for range 50 {
		if _, err := c.ShopByKey(ctx, "nobody"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
		if _, err := c.ShopByExternalID(ctx, models.PlatformShopify, "nobody.myshopify.com"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	}
	if n := f.calls(); n != 2 {
		t.Fatalf("%d lookups for 100 deliveries to two unknown shops, want 2", n)
	}
	shops["nobody"] = &models.Shop{ID: 1, Key: "nobody", Platform: models.PlatformStandard}
	clock.Add(4 * time.Second)
	if _, err := c.ShopByKey(ctx, "nobody"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("within the miss TTL: %v", err)
	}
	clock.Add(2 * time.Second)
	if s, err := c.ShopByKey(ctx, "nobody"); err != nil || s.ID != 1 {
		t.Fatalf("after the miss TTL: %v, %v", s, err)
	}
	if n := f.calls(); n != 3 {
		t.Fatalf("%d lookups, want 3", n)
	}
}

// TestShopCache_MissesBounded: made-up keys cannot grow the cache beyond
// MaxMisses, and the newest miss is kept.
func TestShopCache_MissesBounded(t *testing.T) {
	c, f, clock := newCache(mapFinder{})
	ctx := context.Background()
	for i := range 1000 {
		c.ShopByKey(ctx, "made-up-"+strconv.Itoa(i))
		if i%100 == 0 {
			clock.Add(time.Second)
		}
	}
	if n := c.Misses(); n > 100 || n == 0 {
		t.Fatalf("%d misses held, want at most 100", n)
	}
	before := f.calls()
	c.ShopByKey(ctx, "made-up-999")
	if f.calls() != before {
		t.Fatal("the newest miss was not kept")
	}
	// Off: nothing is remembered.
	c.MissTTL = -1
	c.Clear()
	c.ShopByKey(ctx, "x")
	c.ShopByKey(ctx, "x")
	if c.Misses() != 0 || f.calls() != before+2 {
		t.Fatalf("MissTTL < 0: %d misses, %d lookups", c.Misses(), f.calls()-before)
	}
}

// TestShopCache_ForgetAtMostOncePerMinRefresh: a failed verification asks
// for the stored shop again, but not more often than MinRefresh; Drop and
// Clear take effect at once.
func TestShopCache_ForgetAtMostOncePerMinRefresh(t *testing.T) {
	shop := &models.Shop{ID: 1, Key: "acme", Platform: models.PlatformStandard}
	c, f, clock := newCache(mapFinder{"acme": shop})
	ctx := context.Background()
	c.ShopByKey(ctx, "acme")
	for range 20 {
		c.Forget(shop)
		c.ShopByKey(ctx, "acme")
		clock.Add(10 * time.Millisecond)
	}
	if n := f.calls(); n != 1 {
		t.Fatalf("%d lookups for 20 failed verifications within a second, want 1", n)
	}
	clock.Add(time.Second)
	c.Forget(shop)
	c.ShopByKey(ctx, "acme")
	if n := f.calls(); n != 2 {
		t.Fatalf("after MinRefresh: %d lookups, want 2", n)
	}
	c.Drop(shop)
	c.ShopByKey(ctx, "acme")
	c.Clear()
	c.ShopByKey(ctx, "acme")
	if n := f.calls(); n != 4 {
		t.Fatalf("after Drop and Clear: %d lookups, want 4", n)
	}
}

// TestShopCache_OnlyKnownShops: under OnlyKnownShops a key never found is
// refused without a lookup, while a shop found before, or preloaded with
// Remember, is still looked up when its entry expired.
func TestShopCache_OnlyKnownShops(t *testing.T) {
	acme := &models.Shop{ID: 1, Key: "acme", Platform: models.PlatformStandard}
	us := &models.Shop{ID: 2, Key: "us", Platform: models.PlatformShopify, ExternalID: "us.myshopify.com"}
	c, f, clock := newCache(mapFinder{"acme": acme, "us": us})
	limited := inbox.OnlyKnownShops(context.Background())
	for range 10 {
		if _, err := c.ShopByKey(limited, "made-up"); !errors.Is(err, inbox.ErrLookupRefused) {
			t.Fatalf("made-up key: %v, want ErrLookupRefused", err)
		}
	}
	if _, err := c.ShopByExternalID(limited, models.PlatformShopify, "us.myshopify.com"); !errors.Is(err, inbox.ErrLookupRefused) {
		t.Fatalf("a shop not known yet: %v", err)
	}
	if n := f.calls(); n != 0 {
		t.Fatalf("%d lookups for refused keys", n)
	}
	c.Remember(us)
	if s, err := c.ShopByExternalID(limited, models.PlatformShopify, "us.myshopify.com"); err != nil || s.ID != 2 {
		t.Fatalf("a preloaded shop: %v %v", s, err)
	}
	if _, err := c.ShopByKey(context.Background(), "acme"); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Minute) // every entry expired
	if s, err := c.ShopByKey(limited, "acme"); err != nil || s.ID != 1 {
		t.Fatalf("a shop found before: %v %v", s, err)
	}
	// A key the store said does not exist stays "not found", not refused.
	c.ShopByKey(context.Background(), "gone")
	if _, err := c.ShopByKey(limited, "gone"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("a cached miss: %v", err)
	}
	if n := f.calls(); n != 4 {
		t.Fatalf("%d lookups, want 4", n)
	}
}

// TestIntake_UnknownShopsAndForgeriesCostNoStatementEach: through the real
// intake and store, deliveries for shops that do not exist and deliveries
// with forged signatures cost a statement per MissTTL and per MinRefresh,
// not one each, while a rotated secret still works after MinRefresh.
func TestIntake_UnknownShopsAndForgeriesCostNoStatementEach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		st := storetest.Open(t, driver)
		const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		shop := &models.Shop{Key: "acme", Platform: models.PlatformStandard, Source: "cli", Secrets: models.ShopSecrets{Webhook: []string{secret}}}
		if err := st.SaveShop(ctx, shop); err != nil {
			t.Fatal(err)
		}
		clock := storetest.NewClock(time.Now().UTC())
		f := &countingFinder{ShopFinder: st}
		cache := &inbox.ShopCache{Shops: f, TTL: 2 * time.Second, Now: clock.Now}
		in := &inbox.Intake{Receivers: map[models.Platform]plugin.Receiver{models.PlatformStandard: standard.New(5 * time.Minute)},
			Shops: cache, Inbox: st, Now: clock.Now}
		deliver := func(shopKey, secret, id string) error {
			key, _ := standard.DecodeSecret(secret)
			body := []byte(`{"type":"cart.abandoned","timestamp":"2026-03-02T09:00:00Z","data":{}}`)
			ts := clock.Now().Unix()
			h := http.Header{}
			h.Set("webhook-id", id)
			h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
			h.Set("webhook-signature", standard.SignatureHeader(key, id, ts, body))
			_, err := in.Receive(ctx, models.PlatformStandard, &plugin.Delivery{Header: h, Body: body, ShopKey: shopKey})
			return err
		}
		const forged = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		for i := range 100 {
			if err := deliver("nobody", secret, fmt.Sprint("u-", i)); !errors.Is(err, models.ErrUnauthorized) {
				t.Fatalf("unknown shop: %v", err)
			}
			if err := deliver("acme", forged, fmt.Sprint("f-", i)); !errors.Is(err, models.ErrUnauthorized) {
				t.Fatalf("forged signature: %v", err)
			}
			clock.Add(time.Millisecond)
		}
		if n := f.calls(); n > 3 {
			t.Fatalf("%d statements for 100 unknown-shop and 100 forged deliveries in 0.1 s, want at most 3", n)
		}
		// The shop rotates its secret; after MinRefresh the new one is read.
		rotated := "whsec_" + "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC"
		shop.Secrets.Webhook = []string{rotated}
		if err := st.SaveShop(ctx, shop); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Second)
		if err := deliver("acme", rotated, "r-1"); err != nil {
			t.Fatalf("a delivery with the rotated secret: %v", err)
		}
	})
}
