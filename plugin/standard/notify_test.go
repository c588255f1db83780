package standard

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/egress"
	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

var notifyNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const (
	paramSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	shopSecret  = "whsec_" + "c2hvcC1zZWNyZXQtc2hvcC1zZWNyZXQtc2hvcC1zZWNyZXQ="
)

// receiver is an endpoint that verifies deliveries with Treue's own Standard
// Webhooks verifier and deduplicates on webhook-id, as the spec advises.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret string

	mu     sync.Mutex
	seen   map[string]int
	bodies []map[string]any
	fault  func(w http.ResponseWriter, r *http.Request) bool
}

func newReceiver(t *testing.T, secret string) *receiver {
	rc := &receiver{t: t, secret: secret, seen: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	if rc.fault != nil && rc.fault(w, r) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	shop := &models.Shop{Secrets: models.ShopSecrets{Webhook: []string{rc.secret}}}
	if err := New(5*time.Minute).Verify(context.Background(), &plugin.Delivery{Header: r.Header, Body: body}, shop, notifyNow); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if r.Header.Get("Content-Type") != "application/json" {
		rc.t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	id := r.Header.Get("webhook-id")
	rc.seen[id]++
	if rc.seen[id] == 1 {
		rc.bodies = append(rc.bodies, m)
	}
	w.WriteHeader(http.StatusNoContent)
}

func notifyJob(rc *receiver, params map[string]any) plugin.Job {
	p := map[string]any{"url": rc.srv.URL + "/hooks/treue", "secret": paramSecret}
	for k, v := range params {
		p[k] = v
	}
	return plugin.Job{
		Shop: &models.Shop{Key: "my-shop", Secrets: models.ShopSecrets{Webhook: []string{shopSecret}}},
		Action: &models.Action{PublicID: "act_01J", Type: models.ActionNotify, RuleID: "complaint-to-support",
			DueAt: time.Date(2026, 3, 2, 8, 0, 0, 0, time.FixedZone("CET", 3600)), SKU: "ESP-500", Category: "coffee",
			OrderRef: "1042", IdempotencyKey: "complaint-to-support|c:prof1|o:1042", Params: p},
		Customer: plugin.CustomerInfo{ShopCustomerID: "77", Number: "10077", Email: "anna@example.com", FirstName: "Anna", LastName: "Beispiel"},
	}
}

func testNotifier(timeout time.Duration) *Notifier {
	n := NewNotifier(egress.NewClient(egress.Options{Timeout: timeout, AllowHosts: []string{"127.0.0.1"}}))
	n.Now = func() time.Time { return notifyNow }
	return n
}

func TestNotifier_Execute(t *testing.T) {
	rc := newReceiver(t, paramSecret)
	job := notifyJob(rc, map[string]any{"channel": "support", "reason": "broken grinder"})
	n := testNotifier(5 * time.Second)
	for range 2 { // a retry: same webhook-id, the receiver keeps one
		res, err := n.Execute(context.Background(), job)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusNoContent || !strings.Contains(res.Summary, "webhook-id complaint-to-support|c:prof1|o:1042") {
			t.Errorf("result = %+v", res)
		}
	}
	if rc.seen[job.Action.IdempotencyKey] != 2 || len(rc.bodies) != 1 {
		t.Fatalf("seen = %v, bodies = %d", rc.seen, len(rc.bodies))
	}
	want := map[string]any{
		"type": "action.notify", "timestamp": "2026-03-02T09:00:00Z",
		"data": map[string]any{
			"action": map[string]any{
				"id": "act_01J", "type": "notify", "rule_id": "complaint-to-support", "due_at": "2026-03-02T07:00:00Z",
				"sku": "ESP-500", "category": "coffee", "order": "1042",
				"params":          map[string]any{"channel": "support", "reason": "broken grinder"},
				"idempotency_key": "complaint-to-support|c:prof1|o:1042",
			},
			"customer": map[string]any{"id": "77", "number": "10077", "email": "anna@example.com", "first_name": "Anna"},
			"shop":     "my-shop",
		},
	}
	if diff := cmp.Diff(want, rc.bodies[0]); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestNotifier_ShopSecretAndHashedID(t *testing.T) {
	rc := newReceiver(t, shopSecret)
	job := notifyJob(rc, nil)
	delete(job.Action.Params, "secret")
	job.Action.IdempotencyKey = "review.v2|c:prof 1" // "." and a space are not allowed in webhook-id
	if _, err := testNotifier(5*time.Second).Execute(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	for id := range rc.seen {
		if !strings.HasPrefix(id, "act_") || len(id) != 36 || id != webhookID(job.Action.IdempotencyKey) {
			t.Errorf("webhook-id = %q", id)
		}
	}
}

func TestNotifier_Failures(t *testing.T) {
	status := func(code int, h http.Header) func(w http.ResponseWriter, r *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool {
			for k, v := range h {
				w.Header()[k] = v
			}
			w.WriteHeader(code)
			return true
		}
	}
	tests := []struct {
		name    string
		params  map[string]any
		setup   func(rc *receiver, j *plugin.Job)
		timeout time.Duration
		kind    plugin.ErrorKind
		status  int
		after   time.Duration
		msg     string
	}{
		{name: "5xx", setup: func(rc *receiver, _ *plugin.Job) { rc.fault = status(502, nil) }, kind: plugin.Transient, status: 502},
		{name: "429", setup: func(rc *receiver, _ *plugin.Job) { rc.fault = status(429, http.Header{"Retry-After": {"60"}}) },
			kind: plugin.Transient, status: 429, after: time.Minute},
		{name: "410 gone", setup: func(rc *receiver, _ *plugin.Job) { rc.fault = status(410, nil) }, kind: plugin.Permanent, status: 410},
		{name: "redirect", setup: func(rc *receiver, _ *plugin.Job) {
			rc.fault = func(w http.ResponseWriter, r *http.Request) bool {
				http.Redirect(w, r, "http://169.254.169.254/", http.StatusTemporaryRedirect)
				return true
			}
		}, kind: plugin.Permanent, status: 307, msg: "redirect"},
		{name: "timeout", timeout: 100 * time.Millisecond, setup: func(rc *receiver, _ *plugin.Job) {
			rc.fault = func(w http.ResponseWriter, r *http.Request) bool {
				io.Copy(io.Discard, r.Body) // the server notices the client leaving only once the body is read
				select {
				case <-r.Context().Done():
				case <-time.After(2 * time.Second):
				}
				return true
			}
		}, kind: plugin.Transient, msg: "timeout"},
		{name: "wrong secret", params: map[string]any{"secret": shopSecret}, kind: plugin.Permanent, status: 401},
		{name: "no url", setup: func(_ *receiver, j *plugin.Job) { delete(j.Action.Params, "url") }, kind: plugin.Permanent, msg: "params.url"},
		{name: "bad scheme", params: map[string]any{"url": "file:///etc/passwd"}, kind: plugin.Permanent, msg: "params.url"},
		{name: "credentials in url", params: map[string]any{"url": "https://u:p@hooks.example/"}, kind: plugin.Permanent, msg: "params.url"},
		{name: "no secret", setup: func(_ *receiver, j *plugin.Job) {
			delete(j.Action.Params, "secret")
			j.Shop.Secrets.Webhook = nil
		}, kind: plugin.Permanent, msg: "signing secret"},
		{name: "bad secret", params: map[string]any{"secret": "whsec_!!!"}, kind: plugin.Permanent, msg: "signing secret params.secret is not base64"},
		// An empty key signs nothing, whatever the store holds: the
		// receiver could not tell the webhook from a forgery.
		{name: "empty webhook secret", setup: func(_ *receiver, j *plugin.Job) {
			delete(j.Action.Params, "secret")
			j.Shop.Secrets.Webhook = []string{"whsec_"}
		}, kind: plugin.Permanent, msg: "signing secret the shop's webhook secret is empty"},
		{name: "short notify secret", setup: func(_ *receiver, j *plugin.Job) {
			delete(j.Action.Params, "secret")
			j.Shop.Secrets.NotifySecret = "whsec_c2hvcnQ="
		}, kind: plugin.Permanent, msg: "signing secret the shop's notify_secret decodes to 5 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, paramSecret)
			job := notifyJob(rc, tt.params)
			if tt.setup != nil {
				tt.setup(rc, &job)
			}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			_, err := testNotifier(timeout).Execute(context.Background(), job)
			var pe *plugin.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *plugin.Error", err)
			}
			if pe.Kind != tt.kind || pe.StatusCode != tt.status || pe.RetryAfter != tt.after || !strings.Contains(pe.Error(), tt.msg) {
				t.Errorf("got kind %v status %d after %v %q; want %v %d %v containing %q", pe.Kind, pe.StatusCode, pe.RetryAfter, pe, tt.kind, tt.status, tt.after, tt.msg)
			}
			if strings.Contains(pe.Error(), "MfKQ9r8") {
				t.Errorf("error leaks the secret: %v", pe)
			}
			if strings.Contains(tt.msg, "signing secret") && len(rc.seen) != 0 {
				t.Errorf("a secret refused, yet the receiver got %v", rc.seen)
			}
		})
	}
}

func TestNotifier_DefaultClientRefusesLoopback(t *testing.T) {
	rc := newReceiver(t, paramSecret)
	_, err := NewNotifier(egress.NewClient(egress.Options{})).Execute(context.Background(), notifyJob(rc, nil))
	var pe *plugin.Error
	if !errors.As(err, &pe) || pe.Kind != plugin.Permanent || !errors.Is(err, egress.ErrBlocked) {
		t.Fatalf("err = %v, want a permanent ErrBlocked", err)
	}
	if len(rc.seen) != 0 {
		t.Errorf("the receiver was reached: %v", rc.seen)
	}
}

func TestWebhookID(t *testing.T) {
	for key, hashed := range map[string]bool{
		"rule|c:abc|o:1":         false,
		"a.b":                    true,
		"a b":                    true,
		"a,b":                    true,
		"jörg":                   true,
		strings.Repeat("x", 201): true,
	} {
		id := webhookID(key)
		if (id != key) != hashed || (hashed && !strings.HasPrefix(id, "act_")) {
			t.Errorf("webhookID(%q) = %q", key, id)
		}
	}
	for _, s := range []string{paramSecret, shopSecret} {
		if _, err := DecodeSecret(s); err != nil {
			t.Errorf("DecodeSecret(%q): %v", s, err)
		}
	}
}
