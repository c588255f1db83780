package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/treue/treue/models"
	"github.com/treue/treue/reports"
)

type loyaltyFakeTokens struct{}

func (loyaltyFakeTokens) Authenticate(context.Context, string) (*models.Token, error) {
	return &models.Token{ID: 1, Name: "t", Role: models.RoleSupport}, nil
}

// loyaltyFakeShops knows shop acme; the rest of CustomerReader is unused.
type loyaltyFakeShops struct{ CustomerReader }

func (loyaltyFakeShops) ShopByKey(_ context.Context, key string) (*models.Shop, error) {
	if key != "acme" {
		return nil, models.ErrNotFound
	}
	return &models.Shop{ID: 1, Key: "acme", Timezone: "Europe/Berlin"}, nil
}

// loyaltyFakeJourneys has 1,500 customers (three pages) and serves their
// journeys, without events, through f.
type loyaltyFakeJourneys func(ctx context.Context, ids []int64) ([]models.LoyaltyJourney, error)

func (f loyaltyFakeJourneys) ShopCustomerIDs(context.Context, int64) ([]int64, error) {
	ids := make([]int64, 1500)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	return ids, nil
}

func (f loyaltyFakeJourneys) LoyaltyJourneys(ctx context.Context, ids []int64) ([]models.LoyaltyJourney, error) {
	return f(ctx, ids)
}

func loyaltyServer(t *testing.T, src reports.LoyaltySource, dbTimeout time.Duration) *httptest.Server {
	t.Helper()
	eng, err := New(Config{Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), MaxBodyBytes: 1024,
		Tokens: loyaltyFakeTokens{}, Customers: loyaltyFakeShops{}, Loyalty: src, DBTimeout: dbTimeout})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(eng)
	t.Cleanup(srv.Close)
	return srv
}

// TestLoyalty_Deadline: database.request_timeout bounds each page of a
// report, not the report: pages that each answer in time make a report
// longer than the bound, and a page that hangs answers 503 after the bound.
func TestLoyalty_Deadline(t *testing.T) {
	const bound = 150 * time.Millisecond
	get := func(t *testing.T, srv *httptest.Server, path string) (*http.Response, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer x")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp, m
	}
	t.Run("SlowPages", func(t *testing.T) {
		src := loyaltyFakeJourneys(func(ctx context.Context, ids []int64) ([]models.LoyaltyJourney, error) {
			select {
			case <-time.After(bound * 2 / 3):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			js := make([]models.LoyaltyJourney, len(ids))
			for i := range js {
				js[i].CustomerID = ids[i]
			}
			return js, nil
		})
		start := time.Now()
		resp, m := get(t, loyaltyServer(t, src, bound), "/api/v1/shops/acme/reports/loyalty")
		if resp.StatusCode != 200 || m["shop"] != "acme" {
			t.Fatalf("%d %v", resp.StatusCode, m)
		}
		if d := time.Since(start); d < 2*bound {
			t.Fatalf("three pages took %v: the test proves nothing", d)
		}
	})
	t.Run("ErrFrozenDatabase", func(t *testing.T) {
		src := loyaltyFakeJourneys(func(ctx context.Context, _ []int64) ([]models.LoyaltyJourney, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
		start := time.Now()
		resp, m := get(t, loyaltyServer(t, src, bound), "/api/v1/shops/acme/reports/loyalty")
		wantProblem(t, resp, m, http.StatusServiceUnavailable)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("503 after %v", d)
		}
	})
	t.Run("ErrDisabled", func(t *testing.T) {
		resp, m := get(t, loyaltyServer(t, nil, bound), "/api/v1/shops/acme/reports/loyalty")
		wantProblem(t, resp, m, http.StatusNotFound)
	})
	t.Run("ErrSource", func(t *testing.T) {
		src := loyaltyFakeJourneys(func(context.Context, []int64) ([]models.LoyaltyJourney, error) {
			return nil, errors.New("disk on fire")
		})
		resp, m := get(t, loyaltyServer(t, src, bound), "/api/v1/shops/acme/reports/loyalty")
		wantProblem(t, resp, m, http.StatusInternalServerError)
		if m["detail"] != "Internal error; the request id identifies it in Treue's log." {
			t.Errorf("detail %v leaks the cause", m["detail"])
		}
	})
}
