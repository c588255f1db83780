package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/treue/treue/plugin/standard"
)

const testSecret = "whsec_dGhlLWZha2Utc2hvcC10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5"

// post sends one signed notify webhook like the notify connector does.
func post(t *testing.T, ctx context.Context, url, secret, id, key, rule, order string) int {
	t.Helper()
	body, _ := json.Marshal(standard.Notification{Type: "action.points_award", Timestamp: time.Now().UTC(),
		Data: standard.NotificationData{Shop: "s1", Customer: standard.NotifiedCustomer{ID: "c1"},
			Action: standard.NotifiedAction{ID: "a-" + key, Type: "points_award", RuleID: rule, Order: order, IdempotencyKey: key}}})
	k, err := standard.DecodeSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/notify", bytes.NewReader(body))
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now, 10))
	req.Header.Set("webhook-signature", standard.SignatureHeader(k, id, now, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func stats(t *testing.T, url string) Stats {
	t.Helper()
	resp, err := http.Get(url + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestFakeShop_RetriesAndViolations(t *testing.T) {
	ok := httptest.NewServer(newShop([]string{testSecret}, 0, 0, time.Minute, []string{"points-award"}, 1))
	defer ok.Close()
	ctx := context.Background()
	if got := post(t, ctx, ok.URL, "whsec_YS13cm9uZy1zZWNyZXQtb2YtMzItYnl0ZXMtbG9uZyE=", "id-0", "k0", "r", ""); got != 401 {
		t.Fatalf("wrong secret: status %d, want 401", got)
	}
	if got := post(t, ctx, ok.URL, testSecret, "id-1", "k1", "points-award", "o1"); got != 204 {
		t.Fatalf("status %d, want 204", got)
	}
	post(t, ctx, ok.URL, testSecret, "id-1", "k1", "points-award", "o1") // again after a 2xx
	post(t, ctx, ok.URL, testSecret, "id-2", "k1", "r", "")              // the same key under another id
	post(t, ctx, ok.URL, testSecret, "id-3", "k3", "points-award", "o1") // the rule again for o1
	st := stats(t, ok.URL)
	if st.Requests != 5 || st.BadSignature != 1 || st.DistinctIDs != 3 || st.Applied != 3 || st.RepeatedIDs != 1 {
		t.Errorf("counts: %+v", st)
	}
	if st.AfterOK != 1 || st.IDConflicts != 1 || st.OnceDoubled != 1 || st.RetryAfterErr != 0 {
		t.Errorf("violations: %+v", st)
	}

	failing := httptest.NewServer(newShop([]string{testSecret}, 0, 1, time.Minute, nil, 1))
	defer failing.Close()
	for range 2 {
		if got := post(t, ctx, failing.URL, testSecret, "id-1", "k1", "r", ""); got != 500 && got != 503 {
			t.Fatalf("error rate 1: status %d", got)
		}
	}
	st = stats(t, failing.URL)
	if st.Answered5xx != 2 || st.RetryAfterErr != 1 || st.AfterOK != 0 || st.Applied != 0 {
		t.Errorf("a retry after a 5xx: %+v", st)
	}
}

func TestFakeShop_DelayEndsWhenTheCallerLeaves(t *testing.T) {
	srv := httptest.NewServer(newShop([]string{testSecret}, time.Minute, 0, time.Minute, nil, 1))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if got := post(t, ctx, srv.URL, testSecret, "id-1", "k1", "r", ""); got != 0 {
		t.Fatalf("status %d before the delay was over", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for st := stats(t, srv.URL); st.CallerGone != 1 || st.InFlight != 0; st = stats(t, srv.URL) {
		if time.Now().After(deadline) {
			t.Fatalf("the handler still waits %s after the caller left: %+v", time.Since(start), st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := stats(t, srv.URL); st.MaxInFlight != 1 || st.Answered2xx != 0 {
		t.Errorf("after the caller left: %+v", st)
	}
}
