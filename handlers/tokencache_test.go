package handlers

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/treue/treue/models"
)

type countingTokens struct {
	calls   int
	revoked bool
}

func (c *countingTokens) Authenticate(_ context.Context, tok string) (*models.Token, error) {
	c.calls++
	if tok != "treue_good" || c.revoked {
		return nil, models.ErrNotFound
	}
	return &models.Token{ID: 7, Name: "anna", Role: models.RoleSupport}, nil
}

func TestCachedTokens(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	store := &countingTokens{}
	c := &CachedTokens{Tokens: store, Now: func() time.Time { return now }}
	for range 3 {
		tok, err := c.Authenticate(ctx, "treue_good")
		if err != nil || tok.ID != 7 {
			t.Fatalf("%v, %v", tok, err)
		}
		tok.Role = models.RoleAdmin // a caller's change must not reach the cache
	}
	if store.calls != 1 {
		t.Fatalf("%d lookups within the TTL, want 1", store.calls)
	}
	if tok, _ := c.Authenticate(ctx, "treue_good"); tok.Role != models.RoleSupport {
		t.Fatalf("cached role %s", tok.Role)
	}
	// Unknown tokens are looked up every time.
	for range 2 {
		if _, err := c.Authenticate(ctx, "treue_bad"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("unknown token: %v", err)
		}
	}
	if store.calls != 3 {
		t.Fatalf("%d lookups, want 3", store.calls)
	}
	// Revoked: it works until the TTL is over, then never again.
	store.revoked = true
	now = now.Add(DefaultTokenTTL - time.Millisecond)
	if _, err := c.Authenticate(ctx, "treue_good"); err != nil {
		t.Fatalf("within the TTL: %v", err)
	}
	now = now.Add(time.Millisecond)
	for range 2 {
		if _, err := c.Authenticate(ctx, "treue_good"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("revoked, after the TTL: %v", err)
		}
	}
	// A clock that went back does not extend an entry's life.
	store.revoked = false
	c.Authenticate(ctx, "treue_good")
	store.revoked = true
	now = now.Add(-time.Hour)
	if _, err := c.Authenticate(ctx, "treue_good"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("clock went back: %v", err)
	}
}
