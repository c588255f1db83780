package magento

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/egress"
	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

var testNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func testConnector(timeout time.Duration) *Connector {
	c := NewConnector(egress.NewClient(egress.Options{Timeout: timeout, AllowHosts: []string{"127.0.0.1"}}))
	c.Now = func() time.Time { return testNow }
	var n atomic.Int64
	c.Nonce = func() string { return fmt.Sprintf("nonce%d", n.Add(1)) }
	return c
}

func testJob(f *fakeMagento, typ models.ActionType, params map[string]any) plugin.Job {
	return plugin.Job{
		Shop: &models.Shop{Key: "mage", Platform: models.PlatformStandard, URL: f.srv.URL + "/",
			Secrets: models.ShopSecrets{APIKey: f.cred.ConsumerKey, APISecret: f.cred.ConsumerSecret, AccessToken: f.cred.Token, TokenSecret: f.cred.TokenSecret}},
		Action:   &models.Action{Type: typ, Params: params, IdempotencyKey: "rule-7|c:prof1|o:1042", SKU: "SAMPLE-5"},
		Customer: plugin.CustomerInfo{ShopCustomerID: "77", Email: "anna@example.com"},
	}
}

func TestConnector_Actions(t *testing.T) {
	tests := []struct {
		name     string
		typ      models.ActionType
		params   map[string]any
		setup    func(f *fakeMagento, j *plugin.Job)
		external string
		check    func(t *testing.T, f *fakeMagento)
	}{
		{name: "promo_code", typ: models.ActionPromoCode, params: map[string]any{"rule_id": 42.0, "percent": 10},
			check: func(t *testing.T, f *fakeMagento) {
				if len(f.coupons) != 1 {
					t.Fatalf("coupons = %v, want one", f.coupons)
				}
				for code, rule := range f.coupons {
					if rule != "42" || !strings.HasPrefix(code, "LOY-") || len(code) != 14 {
						t.Errorf("coupon %s under rule %s", code, rule)
					}
				}
			}},
		{name: "promo_code created concurrently", typ: models.ActionPromoCode, params: map[string]any{"rule_id": "42", "prefix": "BACK-"},
			setup: func(f *fakeMagento, j *plugin.Job) {
				// The first attempt's POST went through, but its answer was lost
				// and the search index does not show it yet.
				code := plugin.PromoCode("BACK-", f.cred.TokenSecret, j.Action.IdempotencyKey)
				f.coupons[code] = "42"
				f.hideCoupons = true
			},
			check: func(t *testing.T, f *fakeMagento) {
				if len(f.coupons) != 1 {
					t.Fatalf("coupons = %v", f.coupons)
				}
			}},
		{name: "sample_gift on the open order", typ: models.ActionSampleGift, external: "000001042",
			check: func(t *testing.T, f *fakeMagento) {
				c := f.comments["1042"]
				if len(c) != 1 || !strings.Contains(c[0], "SAMPLE-5") || !strings.Contains(c[0], "[treue:") {
					t.Fatalf("comments = %q", f.comments)
				}
			}},
		{name: "sample_gift by customer id only", typ: models.ActionSampleGift, external: "000001042",
			setup: func(_ *fakeMagento, j *plugin.Job) { j.Customer.Email = "" },
			check: func(t *testing.T, f *fakeMagento) {
				if len(f.comments["1042"]) != 1 {
					t.Fatalf("comments = %q", f.comments)
				}
			}},
		{name: "sample_gift without open order", typ: models.ActionSampleGift, params: map[string]any{"sample_sku": "SAMPLE-9"},
			setup: func(f *fakeMagento, j *plugin.Job) { f.orders = f.orders[:1]; j.Action.SKU = "" },
			check: func(t *testing.T, f *fakeMagento) {
				if len(f.comments) != 0 || f.puts != 1 {
					t.Errorf("comments = %v, puts = %d", f.comments, f.puts)
				}
				if v := f.attr("77", attrSampleSKU); v != "SAMPLE-9" {
					t.Errorf("treue_sample_sku = %v", v)
				}
			}},
		{name: "points_award", typ: models.ActionPointsAward, params: map[string]any{"balance": 180.0, "tier": "silver"},
			check: func(t *testing.T, f *fakeMagento) {
				if f.puts != 1 {
					t.Errorf("PUTs = %d, want 1 (the retry finds nothing to change)", f.puts)
				}
				got := f.customers["77"]
				want := map[string]any{
					"id": json.Number("77"), "group_id": json.Number("4"), "email": "anna@example.com",
					"firstname": "Anna", "lastname": "Beispiel", "store_id": json.Number("1"), "website_id": json.Number("1"),
					"addresses": []any{map[string]any{"id": json.Number("5"), "city": "Köln", "default_billing": true}},
					"custom_attributes": []any{
						map[string]any{"attribute_code": "treue_tags", "value": "vip"},
						map[string]any{"attribute_code": "newsletter_source", "value": "shop"},
						map[string]any{"attribute_code": attrPointsBalance, "value": "180"},
						map[string]any{"attribute_code": attrTier, "value": "silver"},
					},
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("customer after PUT (-want +got):\n%s", diff)
				}
			}},
		{name: "tag_customer by e-mail", typ: models.ActionTagCustomer, params: map[string]any{"tag": "tier-gold"},
			setup: func(_ *fakeMagento, j *plugin.Job) { j.Customer.ShopCustomerID = "" },
			check: func(t *testing.T, f *fakeMagento) {
				if v := f.attr("77", attrTags); v != "vip,tier-gold" || f.puts != 1 {
					t.Errorf("treue_tags = %v after %d PUTs", v, f.puts)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeMagento(t, testNow)
			job := testJob(f, tt.typ, tt.params)
			if tt.setup != nil {
				tt.setup(f, &job)
			}
			c := testConnector(5 * time.Second)
			first, err := c.Execute(context.Background(), job)
			if err != nil {
				t.Fatalf("first Execute: %v", err)
			}
			second, err := c.Execute(context.Background(), job)
			if err != nil {
				t.Fatalf("second Execute: %v", err)
			}
			if first.External != second.External || (tt.external != "" && first.External != tt.external) {
				t.Errorf("External = %q then %q, want %q", first.External, second.External, tt.external)
			}
			if tt.typ == models.ActionPromoCode && first.External == "" {
				t.Error("no code reported")
			}
			if s := first.Summary + second.Summary; strings.Contains(s, f.cred.ConsumerSecret) || strings.Contains(s, f.cred.TokenSecret) || strings.Contains(s, "anna@") {
				t.Errorf("summary leaks: %s", s)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			tt.check(t, f)
		})
	}
}

func TestConnector_Bearer(t *testing.T) {
	f := newFakeMagento(t, testNow)
	job := testJob(f, models.ActionPointsAward, map[string]any{"balance": 5})
	job.Shop.Secrets = models.ShopSecrets{AccessToken: f.cred.Token}

	_, err := testConnector(5*time.Second).Execute(context.Background(), job)
	var pe *plugin.Error
	if !errors.As(err, &pe) || pe.Kind != plugin.Permanent || pe.StatusCode != 401 || !strings.Contains(pe.Error(), "standalone Bearer") {
		t.Fatalf("bearer not enabled: err = %v", err)
	}
	f.mu.Lock()
	f.allowBearer = true
	f.mu.Unlock()
	if _, err := testConnector(5*time.Second).Execute(context.Background(), job); err != nil {
		t.Fatalf("bearer enabled: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if v := f.attr("77", attrPointsBalance); v != "5" {
		t.Errorf("balance = %v", v)
	}
}

func TestConnector_Failures(t *testing.T) {
	status := func(path string, code int, h http.Header) func(w http.ResponseWriter, r *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != path {
				return false
			}
			for k, v := range h {
				w.Header()[k] = v
			}
			mgError(w, code, "Something went wrong")
			return true
		}
	}
	promo := map[string]any{"rule_id": 42}
	tests := []struct {
		name    string
		typ     models.ActionType
		params  map[string]any
		setup   func(f *fakeMagento, j *plugin.Job)
		timeout time.Duration
		kind    plugin.ErrorKind
		status  int
		after   time.Duration
		msg     string
	}{
		{name: "5xx", typ: models.ActionPromoCode, params: promo,
			setup: func(f *fakeMagento, _ *plugin.Job) { f.fault = status("/rest/V1/coupons", 500, nil) },
			kind:  plugin.Transient, status: 500},
		{name: "429 Retry-After", typ: models.ActionPromoCode, params: promo,
			setup: func(f *fakeMagento, _ *plugin.Job) {
				f.fault = status("/rest/V1/coupons/search", 429, http.Header{"Retry-After": {"30"}})
			},
			kind: plugin.Transient, status: 429, after: 30 * time.Second},
		{name: "timeout", typ: models.ActionPointsAward, params: map[string]any{"balance": 1}, timeout: 100 * time.Millisecond,
			setup: func(f *fakeMagento, _ *plugin.Job) {
				f.fault = func(w http.ResponseWriter, r *http.Request) bool {
					if r.Method != http.MethodPut {
						return false
					}
					io.Copy(io.Discard, r.Body) // the server notices the client leaving only once the body is read
					select {
					case <-r.Context().Done():
					case <-time.After(2 * time.Second):
					}
					return true
				}
			},
			kind: plugin.Transient, msg: "timeout"},
		{name: "wrong secret", typ: models.ActionPromoCode, params: promo,
			setup: func(_ *fakeMagento, j *plugin.Job) { j.Shop.Secrets.TokenSecret = "wrong" },
			kind:  plugin.Permanent, status: 401, msg: "signature is invalid"},
		{name: "rule without auto generation", typ: models.ActionPromoCode, params: map[string]any{"rule_id": 7},
			kind: plugin.Permanent, status: 400, msg: "does not allow auto generated coupons"},
		{name: "missing rule_id", typ: models.ActionPromoCode, kind: plugin.Permanent, msg: "params.rule_id"},
		{name: "missing balance", typ: models.ActionPointsRevoke, kind: plugin.Permanent, msg: "params.balance"},
		{name: "tag with comma", typ: models.ActionTagCustomer, params: map[string]any{"tag": "a,b"}, kind: plugin.Permanent, msg: "params.tag"},
		{name: "unknown customer", typ: models.ActionTagCustomer, params: map[string]any{"tag": "x"},
			setup: func(_ *fakeMagento, j *plugin.Job) { j.Customer = plugin.CustomerInfo{Email: "who@example.com"} },
			kind:  plugin.Permanent, msg: "no customer account"},
		{name: "reorder_reminder unsupported", typ: models.ActionReorderReminder, kind: plugin.Permanent, msg: "use notify"},
		{name: "no credentials", typ: models.ActionPromoCode, params: promo,
			setup: func(_ *fakeMagento, j *plugin.Job) { j.Shop.Secrets = models.ShopSecrets{} },
			kind:  plugin.Permanent, msg: "no integration credentials"},
		{name: "incomplete OAuth credentials", typ: models.ActionPromoCode, params: promo,
			setup: func(_ *fakeMagento, j *plugin.Job) { j.Shop.Secrets.TokenSecret = "" },
			kind:  plugin.Permanent, msg: "OAuth needs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeMagento(t, testNow)
			job := testJob(f, tt.typ, tt.params)
			if tt.setup != nil {
				tt.setup(f, &job)
			}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			_, err := testConnector(timeout).Execute(context.Background(), job)
			var pe *plugin.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *plugin.Error", err)
			}
			if pe.Kind != tt.kind || pe.StatusCode != tt.status || pe.RetryAfter != tt.after || !strings.Contains(pe.Error(), tt.msg) {
				t.Errorf("got kind %v status %d after %v %q; want %v %d %v containing %q", pe.Kind, pe.StatusCode, pe.RetryAfter, pe, tt.kind, tt.status, tt.after, tt.msg)
			}
			if strings.Contains(pe.Error(), f.cred.ConsumerSecret) || strings.Contains(pe.Error(), f.cred.TokenSecret) {
				t.Errorf("error leaks a secret: %v", pe)
			}
		})
	}
}

func TestConnector_DefaultClientRefusesLoopback(t *testing.T) {
	f := newFakeMagento(t, testNow)
	_, err := NewConnector(egress.NewClient(egress.Options{})).Execute(context.Background(), testJob(f, models.ActionPromoCode, map[string]any{"rule_id": 42}))
	var pe *plugin.Error
	if !errors.As(err, &pe) || pe.Kind != plugin.Permanent || !errors.Is(err, egress.ErrBlocked) {
		t.Fatalf("err = %v, want a permanent ErrBlocked", err)
	}
	if len(f.requests) != 0 {
		t.Errorf("requests = %v", f.requests)
	}
}
