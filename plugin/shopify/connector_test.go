package shopify

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/treue/treue/egress"
	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
)

var testNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func testConnector(f *fakeShopify, timeout time.Duration) *Connector {
	c := NewConnector(egress.NewClient(egress.Options{Timeout: timeout, AllowHosts: []string{"127.0.0.1"}}))
	c.Now = func() time.Time { return testNow }
	c.BaseURL = f.srv.URL
	return c
}

func testJob(f *fakeShopify, typ models.ActionType, params map[string]any) plugin.Job {
	return plugin.Job{
		Shop:     &models.Shop{Key: "sfy", Platform: models.PlatformShopify, ExternalID: "treue-test.myshopify.com", Secrets: models.ShopSecrets{AccessToken: f.token}},
		Action:   &models.Action{Type: typ, Params: params, IdempotencyKey: "rule-9|c:prof1|o:1042", SKU: "SAMPLE-5", RuleID: "win-back"},
		Customer: plugin.CustomerInfo{ShopCustomerID: "7001", Email: "anna@example.com"},
	}
}

func TestConnector_Actions(t *testing.T) {
	tests := []struct {
		name    string
		typ     models.ActionType
		params  map[string]any
		byEmail bool
		check   func(t *testing.T, f *fakeShopify)
	}{
		{name: "promo_code percent", typ: models.ActionPromoCode, params: map[string]any{"percent": 15, "valid_for": "14d", "reason": "win_back"},
			check: func(t *testing.T, f *fakeShopify) {
				if len(f.discounts) != 1 {
					t.Fatalf("discounts = %v", f.discounts)
				}
				for code, d := range f.discounts {
					want := map[string]any{
						"title": "Treue win_back " + code, "code": code, "startsAt": "2026-03-02T09:00:00Z", "endsAt": "2026-03-16T09:00:00Z",
						"usageLimit": 1.0, "appliesOncePerCustomer": true,
						"customerGets": map[string]any{"value": map[string]any{"percentage": 0.15}, "items": map[string]any{"all": true}},
						"context":      map[string]any{"customers": map[string]any{"add": []any{gidAnna}}},
					}
					if diff := cmp.Diff(want, d); diff != "" {
						t.Errorf("discount input (-want +got):\n%s", diff)
					}
				}
			}},
		{name: "promo_code amount for anyone", typ: models.ActionPromoCode, params: map[string]any{"amount": "4.90"}, byEmail: true,
			check: func(t *testing.T, f *fakeShopify) {
				for _, d := range f.discounts {
					if diff := cmp.Diff(map[string]any{"all": "ALL"}, d["context"]); diff != "" {
						t.Errorf("context (-want +got):\n%s", diff)
					}
					gets := d["customerGets"].(map[string]any)["value"]
					if diff := cmp.Diff(map[string]any{"discountAmount": map[string]any{"amount": "4.90", "appliesOnEachItem": false}}, gets); diff != "" {
						t.Errorf("value (-want +got):\n%s", diff)
					}
				}
			}},
		{name: "tag_customer", typ: models.ActionTagCustomer, params: map[string]any{"tag": "tier-gold"},
			check: func(t *testing.T, f *fakeShopify) {
				if diff := cmp.Diff([]string{"newsletter", "tier-gold"}, f.tagList(gidAnna)); diff != "" {
					t.Errorf("tags (-want +got):\n%s", diff)
				}
			}},
		{name: "tag_customer by e-mail", typ: models.ActionTagCustomer, params: map[string]any{"tag": "vip"}, byEmail: true,
			check: func(t *testing.T, f *fakeShopify) {
				if !f.tags[gidAnna]["vip"] {
					t.Errorf("tags = %v", f.tags)
				}
			}},
		{name: "sample_gift", typ: models.ActionSampleGift,
			check: func(t *testing.T, f *fakeShopify) {
				if !f.tags[gidAnna][tagSampleDue] || f.metafields[gidAnna]["treue.sample_sku"] != "single_line_text_field:SAMPLE-5" {
					t.Errorf("tags %v, metafields %v", f.tags, f.metafields)
				}
			}},
		{name: "points_award", typ: models.ActionPointsAward, params: map[string]any{"balance": 180.0, "tier": "silver"},
			check: func(t *testing.T, f *fakeShopify) {
				want := map[string]string{"treue.points_balance": "number_integer:180", "treue.tier": "single_line_text_field:silver"}
				if diff := cmp.Diff(want, f.metafields[gidAnna]); diff != "" {
					t.Errorf("metafields (-want +got):\n%s", diff)
				}
			}},
		{name: "reorder_reminder", typ: models.ActionReorderReminder,
			check: func(t *testing.T, f *fakeShopify) {
				if !f.tags[gidAnna][tagReorderDue] {
					t.Errorf("tags = %v", f.tags)
				}
			}},
		{name: "review_request", typ: models.ActionReviewRequest,
			check: func(t *testing.T, f *fakeShopify) {
				if !f.tags[gidAnna][tagReviewRequest] {
					t.Errorf("tags = %v", f.tags)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeShopify(t)
			job := testJob(f, tt.typ, tt.params)
			if tt.byEmail {
				job.Customer.ShopCustomerID = ""
			}
			c := testConnector(f, 5*time.Second)
			first, err := c.Execute(context.Background(), job)
			if err != nil {
				t.Fatalf("first Execute: %v", err)
			}
			second, err := c.Execute(context.Background(), job)
			if err != nil {
				t.Fatalf("second Execute: %v", err)
			}
			if first.External != second.External {
				t.Errorf("External = %q then %q", first.External, second.External)
			}
			if tt.typ == models.ActionPromoCode && !strings.HasPrefix(first.External, "LOY-") {
				t.Errorf("code = %q", first.External)
			}
			if strings.Contains(first.Summary+second.Summary, f.token) {
				t.Error("summary holds the access token")
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			tt.check(t, f)
		})
	}
}

func TestConnector_Failures(t *testing.T) {
	answer := func(status int, h http.Header, body string) func(w http.ResponseWriter, r *http.Request, op string) bool {
		return func(w http.ResponseWriter, r *http.Request, op string) bool {
			for k, v := range h {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			io.WriteString(w, body)
			return true
		}
	}
	tag := map[string]any{"tag": "vip"}
	tests := []struct {
		name    string
		typ     models.ActionType
		params  map[string]any
		setup   func(f *fakeShopify, j *plugin.Job)
		timeout time.Duration
		kind    plugin.ErrorKind
		status  int
		after   time.Duration
		msg     string
	}{
		{name: "throttled", typ: models.ActionTagCustomer, params: tag,
			setup: func(f *fakeShopify, _ *plugin.Job) {
				f.fault = answer(200, nil, `{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED","documentation":"https://shopify.dev/api/usage/rate-limits"}}],`+
					`"extensions":{"cost":{"requestedQueryCost":152,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":1000,"currentlyAvailable":2,"restoreRate":50}}}}`)
			},
			kind: plugin.Transient, status: 200, after: 3 * time.Second, msg: "THROTTLED"},
		{name: "internal error in errors", typ: models.ActionTagCustomer, params: tag,
			setup: func(f *fakeShopify, _ *plugin.Job) {
				f.fault = answer(200, nil, `{"errors":[{"message":"Internal error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`)
			},
			kind: plugin.Transient, status: 200},
		{name: "access denied", typ: models.ActionPointsAward, params: map[string]any{"balance": 1},
			setup: func(f *fakeShopify, _ *plugin.Job) {
				f.fault = answer(200, nil, `{"errors":[{"message":"Access denied for metafieldsSet field.","extensions":{"code":"ACCESS_DENIED"}}]}`)
			},
			kind: plugin.Permanent, status: 200, msg: "ACCESS_DENIED"},
		{name: "429 Retry-After", typ: models.ActionTagCustomer, params: tag,
			setup: func(f *fakeShopify, _ *plugin.Job) {
				f.fault = answer(429, http.Header{"Retry-After": {"2.0"}}, `{"errors":"Exceeded 2 calls per second for api client."}`)
			},
			kind: plugin.Transient, status: 429, after: 2 * time.Second, msg: "Exceeded"},
		{name: "5xx", typ: models.ActionTagCustomer, params: tag,
			setup: func(f *fakeShopify, _ *plugin.Job) { f.fault = answer(503, http.Header{"Retry-After": {"4"}}, "") },
			kind:  plugin.Transient, status: 503, after: 4 * time.Second},
		{name: "timeout", typ: models.ActionTagCustomer, params: tag, timeout: 100 * time.Millisecond,
			setup: func(f *fakeShopify, _ *plugin.Job) {
				f.fault = func(w http.ResponseWriter, r *http.Request, _ string) bool {
					io.Copy(io.Discard, r.Body) // the server notices the client leaving only once the body is read
					select {
					case <-r.Context().Done():
					case <-time.After(2 * time.Second):
					}
					return true
				}
			},
			kind: plugin.Transient, msg: "timeout"},
		{name: "invalid token", typ: models.ActionTagCustomer, params: tag,
			setup: func(_ *fakeShopify, j *plugin.Job) { j.Shop.Secrets.AccessToken = "shpat_revoked" },
			kind:  plugin.Permanent, status: 401, msg: "Invalid API key"},
		{name: "user error", typ: models.ActionTagCustomer, params: tag,
			setup: func(_ *fakeShopify, j *plugin.Job) { j.Customer.ShopCustomerID = "99" },
			kind:  plugin.Permanent, msg: "Customer does not exist"},
		{name: "discount needs a value", typ: models.ActionPromoCode, params: map[string]any{"valid_for": "30d"}, kind: plugin.Permanent, msg: "params.percent or params.amount"},
		{name: "bad percent", typ: models.ActionPromoCode, params: map[string]any{"percent": 150}, kind: plugin.Permanent, msg: "params.percent"},
		{name: "bad valid_for", typ: models.ActionPromoCode, params: map[string]any{"percent": 5, "valid_for": "soon"}, kind: plugin.Permanent, msg: "valid_for"},
		{name: "fractional balance", typ: models.ActionPointsAward, params: map[string]any{"balance": 1.5}, kind: plugin.Permanent, msg: "whole number"},
		{name: "unknown e-mail", typ: models.ActionTagCustomer, params: tag,
			setup: func(_ *fakeShopify, j *plugin.Job) { j.Customer = plugin.CustomerInfo{Email: "who@example.com"} },
			kind:  plugin.Permanent, msg: "no customer"},
		{name: "notify unsupported", typ: models.ActionNotify, kind: plugin.Permanent, msg: "use notify"},
		{name: "no token", typ: models.ActionTagCustomer, params: tag,
			setup: func(_ *fakeShopify, j *plugin.Job) { j.Shop.Secrets = models.ShopSecrets{} },
			kind:  plugin.Permanent, msg: "access token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeShopify(t)
			job := testJob(f, tt.typ, tt.params)
			if tt.setup != nil {
				tt.setup(f, &job)
			}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			_, err := testConnector(f, timeout).Execute(context.Background(), job)
			var pe *plugin.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *plugin.Error", err)
			}
			if pe.Kind != tt.kind || pe.StatusCode != tt.status || pe.RetryAfter != tt.after || !strings.Contains(pe.Error(), tt.msg) {
				t.Errorf("got kind %v status %d after %v %q; want %v %d %v containing %q", pe.Kind, pe.StatusCode, pe.RetryAfter, pe, tt.kind, tt.status, tt.after, tt.msg)
			}
			if strings.Contains(pe.Error(), "shpat_") {
				t.Errorf("error leaks the token: %v", pe)
			}
		})
	}
}

func TestConnector_ShopDomain(t *testing.T) {
	c := NewConnector(egress.NewClient(egress.Options{}))
	for _, domain := range []string{"evil.example.com", "127.0.0.1", "shop.myshopify.com.evil.net", ""} {
		job := plugin.Job{Shop: &models.Shop{Key: "x", ExternalID: domain, Secrets: models.ShopSecrets{AccessToken: "t"}},
			Action:   &models.Action{Type: models.ActionTagCustomer, IdempotencyKey: "k", Params: map[string]any{"tag": "a"}},
			Customer: plugin.CustomerInfo{ShopCustomerID: "1"}}
		var pe *plugin.Error
		if _, err := c.Execute(context.Background(), job); !errors.As(err, &pe) || pe.Kind != plugin.Permanent || !strings.Contains(pe.Error(), "myshopify.com") {
			t.Errorf("domain %q: err = %v", domain, err)
		}
	}
}

func TestConnector_DefaultClientRefusesLoopback(t *testing.T) {
	f := newFakeShopify(t)
	c := NewConnector(egress.NewClient(egress.Options{}))
	c.BaseURL = f.srv.URL
	_, err := c.Execute(context.Background(), testJob(f, models.ActionTagCustomer, map[string]any{"tag": "vip"}))
	var pe *plugin.Error
	if !errors.As(err, &pe) || pe.Kind != plugin.Permanent || !errors.Is(err, egress.ErrBlocked) {
		t.Fatalf("err = %v, want a permanent ErrBlocked", err)
	}
	if len(f.ops) != 0 {
		t.Errorf("operations = %v", f.ops)
	}
}

func TestParseDays(t *testing.T) {
	tests := map[string]time.Duration{"30d": 30 * 24 * time.Hour, "48h": 48 * time.Hour, "1d12h": 36 * time.Hour, "90m": 90 * time.Minute}
	for in, want := range tests {
		if got, ok := parseDays(in); !ok || got != want {
			t.Errorf("parseDays(%q) = %v, %v", in, got, ok)
		}
	}
	for _, in := range []string{"soon", "d", "5x", "99999d"} {
		if _, ok := parseDays(in); ok {
			t.Errorf("parseDays(%q) ok", in)
		}
	}
}
