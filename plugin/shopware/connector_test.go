package shopware

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

func testConnector(timeout time.Duration) *Connector {
	c := NewConnector(egress.NewClient(egress.Options{Timeout: timeout, AllowHosts: []string{"127.0.0.1"}}))
	c.Now = func() time.Time { return testNow }
	return c
}

func testJob(f *fakeShop, typ models.ActionType, params map[string]any) plugin.Job {
	return plugin.Job{
		Shop: &models.Shop{Key: "sw-test", Platform: models.PlatformShopware, URL: f.srv.URL,
			Secrets: models.ShopSecrets{APIKey: f.clientID, APISecret: f.secret}},
		Action: &models.Action{Type: typ, Params: params, PublicID: "act_1", RuleID: "rule-1",
			IdempotencyKey: "rule-1|c:prof1|o:1042", SKU: "SAMPLE-5", OrderRef: "1042"},
		Customer: plugin.CustomerInfo{ShopCustomerID: custAnna, Email: "anna@example.com", FirstName: "Anna", LastName: "Beispiel"},
	}
}

// TestConnector_Actions runs every action twice, as a retry after a timeout
// would, and checks that the shop ends up with one effect.
func TestConnector_Actions(t *testing.T) {
	tests := []struct {
		name     string
		typ      models.ActionType
		params   map[string]any
		byEmail  bool
		external bool
		check    func(t *testing.T, f *fakeShop)
	}{
		{name: "promo_code", typ: models.ActionPromoCode, params: map[string]any{"promotion_id": promoID, "percent": 10}, external: true,
			check: func(t *testing.T, f *fakeShop) {
				if len(f.codes) != 1 {
					t.Fatalf("codes = %v, want one", f.codes)
				}
				for _, c := range f.codes {
					if c.PromotionID != promoID || !strings.HasPrefix(c.Code, "LOY-") || len(c.Code) != 14 || strings.ToUpper(c.Code) != c.Code {
						t.Errorf("code = %+v", c)
					}
				}
			}},
		{name: "tag_customer", typ: models.ActionTagCustomer, params: map[string]any{"tag": "tier-gold"},
			check: func(t *testing.T, f *fakeShop) {
				if len(f.tags) != 1 || len(f.customerTags[custAnna]) != 1 {
					t.Fatalf("tags = %v, links = %v", f.tags, f.customerTags)
				}
				for id := range f.customerTags[custAnna] {
					if f.tags[id] != "tier-gold" {
						t.Errorf("linked tag %s = %q", id, f.tags[id])
					}
				}
			}},
		{name: "tag_customer by e-mail", typ: models.ActionTagCustomer, params: map[string]any{"tag": "vip"}, byEmail: true,
			check: func(t *testing.T, f *fakeShop) {
				if len(f.customerTags[custAnna]) != 1 {
					t.Fatalf("links = %v", f.customerTags)
				}
			}},
		{name: "sample_gift", typ: models.ActionSampleGift,
			check: func(t *testing.T, f *fakeShop) {
				want := map[string]any{"other": "kept", fieldSampleSKU: "SAMPLE-5", fieldSampleProductID: productID}
				if diff := cmp.Diff(want, f.customers[custAnna].CustomFields); diff != "" {
					t.Errorf("custom fields (-want +got):\n%s", diff)
				}
				if len(f.tags) != 1 || len(f.customerTags[custAnna]) != 1 {
					t.Fatalf("tags = %v, links = %v", f.tags, f.customerTags)
				}
				for _, n := range f.tags {
					if n != tagSampleDue {
						t.Errorf("tag = %q", n)
					}
				}
			}},
		{name: "points_award", typ: models.ActionPointsAward, params: map[string]any{"points": 60, "balance": 180.0, "tier": "silver"},
			check: func(t *testing.T, f *fakeShop) {
				want := map[string]any{"other": "kept", fieldPointsBalance: 180.0, fieldTier: "silver"}
				if diff := cmp.Diff(want, f.customers[custAnna].CustomFields); diff != "" {
					t.Errorf("custom fields (-want +got):\n%s", diff)
				}
			}},
		{name: "points_revoke", typ: models.ActionPointsRevoke, params: map[string]any{"balance": "120"},
			check: func(t *testing.T, f *fakeShop) {
				if got := f.customers[custAnna].CustomFields[fieldPointsBalance]; got != 120.0 {
					t.Errorf("balance = %v", got)
				}
			}},
		{name: "reorder_reminder", typ: models.ActionReorderReminder, params: map[string]any{"name": "Espresso", "sales_channel_id": "cc03cc03cc03cc03cc03cc03cc03cc03"},
			check: func(t *testing.T, f *fakeShop) {
				// A flow trigger cannot be deduplicated by Shopware: both calls fire.
				if len(f.triggers) != 2 || f.triggers[0].Event != eventReorderDue {
					t.Fatalf("triggers = %+v", f.triggers)
				}
				d := f.triggers[0].Data
				want := map[string]any{
					"customerId": custAnna, "salesChannelId": "cc03cc03cc03cc03cc03cc03cc03cc03",
					"idempotencyKey": "rule-1|c:prof1|o:1042", "treueActionId": "act_1", "ruleId": "rule-1",
					"sku": "SAMPLE-5", "orderRef": "1042", "params": map[string]any{"name": "Espresso"},
					"mailStruct": map[string]any{"recipients": map[string]any{"anna@example.com": "Anna Beispiel"}},
				}
				if diff := cmp.Diff(want, d); diff != "" {
					t.Errorf("trigger data (-want +got):\n%s", diff)
				}
			}},
		{name: "review_request", typ: models.ActionReviewRequest,
			check: func(t *testing.T, f *fakeShop) {
				if len(f.triggers) == 0 || f.triggers[0].Event != eventReviewRequest {
					t.Fatalf("triggers = %+v", f.triggers)
				}
			}},
		{name: "notify via flow", typ: models.ActionNotify, params: map[string]any{"flow_event": "treue.notify", "channel": "support"},
			check: func(t *testing.T, f *fakeShop) {
				if len(f.triggers) == 0 || f.triggers[0].Event != "treue.notify" {
					t.Fatalf("triggers = %+v", f.triggers)
				}
				if diff := cmp.Diff(map[string]any{"channel": "support"}, f.triggers[0].Data["params"]); diff != "" {
					t.Errorf("params (-want +got):\n%s", diff)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeShop(t)
			c := testConnector(5 * time.Second)
			job := testJob(f, tt.typ, tt.params)
			if tt.byEmail {
				job.Customer.ShopCustomerID = ""
			}
			first, err := c.Execute(context.Background(), job)
			if err != nil {
				t.Fatalf("first Execute: %v", err)
			}
			second, err := c.Execute(context.Background(), job)
			if err != nil {
				t.Fatalf("second Execute: %v", err)
			}
			if tt.external && (first.External == "" || first.External != second.External) {
				t.Errorf("External = %q then %q, want the same code", first.External, second.External)
			}
			if first.StatusCode < 200 || first.StatusCode > 299 || first.Summary == "" {
				t.Errorf("result = %+v", first)
			}
			if strings.Contains(first.Summary+second.Summary, f.secret) {
				t.Error("summary holds the client secret")
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			tt.check(t, f)
		})
	}
}

func TestConnector_RefreshesTokenOn401(t *testing.T) {
	f := newFakeShop(t)
	f.rejectFirstToken = true
	c := testConnector(5 * time.Second)
	res, err := c.Execute(context.Background(), testJob(f, models.ActionTagCustomer, map[string]any{"tag": "vip"}))
	if err != nil {
		t.Fatal(err)
	}
	if f.tokenCalls != 2 {
		t.Errorf("token requests = %d, want 2 (one refresh)", f.tokenCalls)
	}
	if !strings.Contains(res.Summary, "-> 401") {
		t.Errorf("summary does not show the refused call: %s", res.Summary)
	}
}

func TestConnector_CachesToken(t *testing.T) {
	f := newFakeShop(t)
	c := testConnector(5 * time.Second)
	now := testNow
	c.Now = func() time.Time { return now }
	job := testJob(f, models.ActionTagCustomer, map[string]any{"tag": "vip"})
	for range 3 {
		if _, err := c.Execute(context.Background(), job); err != nil {
			t.Fatal(err)
		}
	}
	if f.tokenCalls != 1 {
		t.Errorf("token requests = %d, want 1", f.tokenCalls)
	}
	now = now.Add(9*time.Minute + 30*time.Second) // expires_in 600 s, refreshed a minute early
	if _, err := c.Execute(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	if f.tokenCalls != 2 {
		t.Errorf("token requests = %d, want 2 after expiry", f.tokenCalls)
	}
}

func TestConnector_Failures(t *testing.T) {
	onPath := func(path string, status int, h http.Header, body string) func(w http.ResponseWriter, r *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != path {
				return false
			}
			for k, v := range h {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			w.Write([]byte(body))
			return true
		}
	}
	promo := map[string]any{"promotion_id": promoID}
	tests := []struct {
		name    string
		typ     models.ActionType
		params  map[string]any
		setup   func(f *fakeShop, j *plugin.Job)
		timeout time.Duration
		kind    plugin.ErrorKind
		status  int
		after   time.Duration
		msg     string
	}{
		{name: "5xx", typ: models.ActionPromoCode, params: promo,
			setup: func(f *fakeShop, _ *plugin.Job) {
				f.fault = onPath("/api/promotion-individual-code", 502, nil, "bad gateway")
			},
			kind: plugin.Transient, status: 502},
		{name: "429 Retry-After seconds", typ: models.ActionPromoCode, params: promo,
			setup: func(f *fakeShop, _ *plugin.Job) {
				f.fault = onPath("/api/promotion-individual-code", 429, http.Header{"Retry-After": {"7"}}, "")
			},
			kind: plugin.Transient, status: 429, after: 7 * time.Second},
		{name: "503 Retry-After date", typ: models.ActionTagCustomer, params: map[string]any{"tag": "vip"},
			setup: func(f *fakeShop, _ *plugin.Job) {
				f.fault = onPath("/api/search/tag", 503, http.Header{"Retry-After": {testNow.Add(2 * time.Minute).Format(http.TimeFormat)}}, "")
			},
			kind: plugin.Transient, status: 503, after: 2 * time.Minute},
		{name: "timeout", typ: models.ActionPromoCode, params: promo, timeout: 100 * time.Millisecond,
			setup: func(f *fakeShop, _ *plugin.Job) {
				f.fault = func(w http.ResponseWriter, r *http.Request) bool {
					if r.URL.Path != "/api/promotion-individual-code" {
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
		{name: "validation error", typ: models.ActionPromoCode, params: promo,
			setup: func(f *fakeShop, _ *plugin.Job) {
				f.fault = onPath("/api/promotion-individual-code", 400, http.Header{"Content-Type": {"application/json"}},
					`{"errors":[{"code":"FRAMEWORK__WRITE_CONSTRAINT_VIOLATION","status":"400","detail":"This value should not be blank."}]}`)
			},
			kind: plugin.Permanent, status: 400, msg: "This value should not be blank"},
		{name: "missing privilege", typ: models.ActionReorderReminder,
			setup: func(f *fakeShop, _ *plugin.Job) {
				f.fault = onPath("/api/_action/trigger-event/treue.reorder_due", 403, nil,
					`{"errors":[{"code":"FRAMEWORK__MISSING_PRIVILEGE_ERROR","status":"403","detail":"{\"message\":\"Missing privilege\",\"missingPrivileges\":[\"flow:dispatch\"]}"}]}`)
			},
			kind: plugin.Permanent, status: 403, msg: "flow:dispatch"},
		{name: "invalid credentials", typ: models.ActionTagCustomer, params: map[string]any{"tag": "vip"},
			setup: func(f *fakeShop, j *plugin.Job) { j.Shop.Secrets.APISecret = "wrong" },
			kind:  plugin.Permanent, status: 401, msg: "credentials rejected"},
		{name: "token refused twice", typ: models.ActionTagCustomer, params: map[string]any{"tag": "vip"},
			setup: func(f *fakeShop, _ *plugin.Job) {
				f.fault = onPath("/api/search/tag", 401, nil, `{"errors":[{"code":"9","status":"401"}]}`)
			},
			kind: plugin.Permanent, status: 401},
		{name: "missing promotion_id", typ: models.ActionPromoCode, params: map[string]any{"percent": 10},
			kind: plugin.Permanent, msg: "params.promotion_id"},
		{name: "bad promotion_id", typ: models.ActionPromoCode, params: map[string]any{"promotion_id": "../customer"},
			kind: plugin.Permanent, msg: "not a Shopware id"},
		{name: "missing tag", typ: models.ActionTagCustomer, kind: plugin.Permanent, msg: "params.tag"},
		{name: "missing balance", typ: models.ActionPointsAward, params: map[string]any{"points": 10}, kind: plugin.Permanent, msg: "params.balance"},
		{name: "unknown product", typ: models.ActionSampleGift, params: map[string]any{"sample_sku": "NOPE"},
			setup: func(_ *fakeShop, j *plugin.Job) { j.Action.SKU = "" },
			kind:  plugin.Permanent, msg: `"NOPE"`},
		{name: "unknown customer e-mail", typ: models.ActionTagCustomer, params: map[string]any{"tag": "vip"},
			setup: func(_ *fakeShop, j *plugin.Job) { j.Customer = plugin.CustomerInfo{Email: "who@example.com"} },
			kind:  plugin.Permanent, msg: "no customer"},
		{name: "no customer identity", typ: models.ActionTagCustomer, params: map[string]any{"tag": "vip"},
			setup: func(_ *fakeShop, j *plugin.Job) { j.Customer = plugin.CustomerInfo{} },
			kind:  plugin.Permanent, msg: "neither"},
		{name: "undeclared flow event", typ: models.ActionNotify, params: map[string]any{"flow_event": "treue.unknown"},
			kind: plugin.Permanent, status: 404, msg: "CUSTOM_TRIGGER"},
		{name: "notify without flow_event", typ: models.ActionNotify, kind: plugin.Permanent, msg: "flow_event"},
		{name: "unknown action type", typ: models.ActionType("teleport"), kind: plugin.Permanent, msg: "not supported"},
		{name: "no credentials", typ: models.ActionTagCustomer,
			setup: func(_ *fakeShop, j *plugin.Job) { j.Shop.Secrets = models.ShopSecrets{} },
			kind:  plugin.Permanent, msg: "credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeShop(t)
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
			if pe.Kind != tt.kind || pe.StatusCode != tt.status || pe.RetryAfter != tt.after {
				t.Errorf("got kind %v status %d after %v (%v); want %v %d %v", pe.Kind, pe.StatusCode, pe.RetryAfter, pe, tt.kind, tt.status, tt.after)
			}
			if !strings.Contains(pe.Error(), tt.msg) {
				t.Errorf("message %q does not mention %q", pe.Error(), tt.msg)
			}
			if strings.Contains(pe.Error(), f.secret) || strings.Contains(pe.Error(), "token-") {
				t.Errorf("message leaks a credential: %v", pe)
			}
		})
	}
}

func TestConnector_DefaultClientRefusesLoopback(t *testing.T) {
	f := newFakeShop(t)
	c := NewConnector(egress.NewClient(egress.Options{}))
	_, err := c.Execute(context.Background(), testJob(f, models.ActionTagCustomer, map[string]any{"tag": "vip"}))
	var pe *plugin.Error
	if !errors.As(err, &pe) || pe.Kind != plugin.Permanent || !errors.Is(err, egress.ErrBlocked) {
		t.Fatalf("err = %v, want a permanent ErrBlocked", err)
	}
	if n := f.count(""); n != 0 {
		t.Errorf("the fake shop saw %d requests", n)
	}
}

func TestCodeFor(t *testing.T) {
	a := plugin.PromoCode("LOY-", "secret", "key-1")
	if a != plugin.PromoCode("LOY-", "secret", "key-1") {
		t.Fatal("not deterministic")
	}
	if a == plugin.PromoCode("LOY-", "secret", "key-2") || a == plugin.PromoCode("LOY-", "other", "key-1") {
		t.Fatal("code does not depend on key and secret")
	}
	if len(a) != 14 || strings.ToUpper(a) != a {
		t.Errorf("code = %q", a)
	}
	if id := deterministicID("tag", "vip"); !hexID.MatchString(id) || id != deterministicID("tag", "vip") {
		t.Errorf("id = %q", id)
	}
}
