package handlers

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/treue/treue/models"
)

// DefaultTokenTTL is how long CachedTokens trusts a token it found: a
// revoked token keeps working on a replica for at most this long.
const DefaultTokenTTL = 2 * time.Second

// maxCachedTokens bounds the cache; there are as many entries as live
// tokens in use, since only tokens the store found are kept.
const maxCachedTokens = 10000

// CachedTokens answers a token the store found a moment ago from memory, so
// that a support read does not cost a statement for its token. Keys are the
// tokens' SHA-256, never the tokens. Unknown and revoked tokens are never
// cached: each is looked up again (the auth limiter bounds how often).
type CachedTokens struct {
	Tokens TokenAuthenticator
	TTL    time.Duration // 0: DefaultTokenTTL
	Now    func() time.Time

	mu      sync.Mutex
	entries map[[sha256.Size]byte]cachedToken
}

type cachedToken struct {
	tok *models.Token
	at  time.Time
}

// Authenticate implements TokenAuthenticator.
func (c *CachedTokens) Authenticate(ctx context.Context, token string) (*models.Token, error) {
	key := sha256.Sum256([]byte(token))
	now := c.now()
	ttl := c.TTL
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < ttl && now.Sub(e.at) >= 0 {
		t := *e.tok
		return &t, nil
	}
	t, err := c.Tokens.Authenticate(ctx, token)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.entries, key)
		return nil, err
	}
	if c.entries == nil || len(c.entries) >= maxCachedTokens {
		c.entries = map[[sha256.Size]byte]cachedToken{}
	}
	kept := *t
	c.entries[key] = cachedToken{tok: &kept, at: now}
	return t, nil
}

func (c *CachedTokens) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
