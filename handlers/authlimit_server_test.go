package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/standard"
	"github.com/treue/treue/webhooks/inbox"
)

const limitSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// lookups is a shop store that counts the lookups reaching it.
type lookups struct {
	mu    sync.Mutex
	shops map[string]*models.Shop
	n     int
}

func (l *lookups) ShopByKey(_ context.Context, key string) (*models.Shop, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	if s, ok := l.shops[key]; ok {
		return s, nil
	}
	return nil, models.ErrNotFound
}

func (l *lookups) ShopByExternalID(context.Context, models.Platform, string) (*models.Shop, error) {
	return nil, models.ErrNotFound
}

func (l *lookups) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

type acceptAll struct{}

func (acceptAll) InsertInbox(context.Context, *models.Delivery) (bool, error) { return false, nil }

// TestWebhook_AuthFailuresRateLimited: after Burst failed authentications
// from one address, its failures are answered 429 with Retry-After and its
// made-up shop keys cost no lookup, while a delivery that verifies, for a
// shop Treue knows, is accepted from that address as ever; another address
// is not affected, and the limit lifts with time.
func TestWebhook_AuthFailuresRateLimited(t *testing.T) {
	clock := newTestClock()
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock.now() }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); clock.add(d) }
	acme := &models.Shop{ID: 1, Key: "acme", Platform: models.PlatformStandard, Secrets: models.ShopSecrets{Webhook: []string{limitSecret}}}
	db := &lookups{shops: map[string]*models.Shop{"acme": acme}}
	// TTL 0: every lookup of a known shop goes to the store, so the test
	// sees which ones OnlyKnownShops lets through.
	cache := &inbox.ShopCache{Shops: db, TTL: 0, MissTTL: -1, MinRefresh: time.Nanosecond, Now: now}
	cache.Remember(acme)
	intake := &inbox.Intake{Receivers: map[models.Platform]plugin.Receiver{models.PlatformStandard: standard.New(time.Hour)},
		Shops: cache, Inbox: acceptAll{}, Now: time.Now}
	eng, err := New(Config{Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), Health: fakeHealth{}, Intake: intake,
		MaxBodyBytes: 1 << 16, TrustedProxies: []string{"127.0.0.1"}, AuthFailures: AuthFailureLimit{Rate: 0.1, Burst: 3, Clients: 100, Now: now}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(eng)
	t.Cleanup(srv.Close)

	seq := 0
	send := func(from, shop, secret string) *http.Response {
		t.Helper()
		seq++
		id := "msg_" + strconv.Itoa(seq)
		body := `{"type":"order.paid","timestamp":"2026-03-02T09:00:00Z","data":{"customer":{"id":"c-1"},"order":{"id":"o-1"}}}`
		key, _ := standard.DecodeSecret(secret)
		ts := time.Now().Unix()
		req, _ := http.NewRequest("POST", srv.URL+"/webhooks/standard/"+shop, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", from)
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("webhook-signature", standard.SignatureHeader(key, id, ts, []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	const attacker, shopSender, other = "198.51.100.7", "198.51.100.7", "203.0.113.5"
	const forged = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	for i := range 3 {
		if resp := send(attacker, fmt.Sprint("made-up-", i), limitSecret); resp.StatusCode != 401 {
			t.Fatalf("failure %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	before := db.count()
	for i := range 20 {
		resp := send(attacker, fmt.Sprint("made-up-more-", i), limitSecret)
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "10" || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("a made-up shop from a limited address: %d, Retry-After %q, %s", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"))
		}
	}
	if n := db.count() - before; n != 0 {
		t.Fatalf("%d lookups for made-up shops from a limited address, want 0", n)
	}
	if resp := send(attacker, "acme", forged); resp.StatusCode != 429 {
		t.Fatalf("a forged signature from a limited address: %d, want 429", resp.StatusCode)
	}
	// The same address (a platform's shared sender) delivering for a shop
	// Treue knows, signed correctly: accepted, every time.
	for i := range 10 {
		if resp := send(shopSender, "acme", limitSecret); resp.StatusCode != 200 {
			t.Fatalf("delivery %d that verifies, from a limited address: %d, want 200", i+1, resp.StatusCode)
		}
	}
	if resp := send(other, "made-up-x", limitSecret); resp.StatusCode != 401 {
		t.Fatalf("another address: %d, want 401", resp.StatusCode)
	}
	advance(10 * time.Second)
	if resp := send(attacker, "made-up-y", limitSecret); resp.StatusCode != 401 {
		t.Fatalf("after Retry-After: %d, want 401", resp.StatusCode)
	}
	if resp := send(attacker, "made-up-z", limitSecret); resp.StatusCode != 429 {
		t.Fatalf("the earned failure spent: %d, want 429", resp.StatusCode)
	}
}
