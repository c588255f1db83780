package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/adobe"
	"github.com/treue/treue/webhooks/inbox"
)

// fakeHealth and fakeIntake are function-field fakes.
type fakeHealth struct{ ping, schema error }

func (f fakeHealth) Ping(context.Context) error        { return f.ping }
func (f fakeHealth) CheckSchema(context.Context) error { return f.schema }

type fakeIntake func(models.Platform, *plugin.Delivery) (inbox.Result, error)

func (f fakeIntake) Receive(_ context.Context, p models.Platform, d *plugin.Delivery) (inbox.Result, error) {
	return f(p, d)
}

func newTestServer(t *testing.T, h Health, in WebhookIntake) *httptest.Server {
	t.Helper()
	eng, err := New(Config{Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), Health: h, Intake: in, MaxBodyBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(eng)
	t.Cleanup(srv.Close)
	return srv
}

// do sends body, if any, as application/json.
func do(t *testing.T, method, url string, body io.Reader) (*http.Response, map[string]any) {
	t.Helper()
	h := http.Header{}
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	return doHeader(t, method, url, h, body)
}

func doHeader(t *testing.T, method, url string, h http.Header, body io.Reader) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	maps.Copy(req.Header, h)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &m)
	return resp, m
}

func wantProblem(t *testing.T, resp *http.Response, m map[string]any, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d (%v)", resp.StatusCode, status, m)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q", ct)
	}
	for _, k := range []string{"type", "title", "status", "detail", "instance"} {
		if m[k] == nil {
			t.Fatalf("problem lacks %q: %v", k, m)
		}
	}
	if int(m["status"].(float64)) != status {
		t.Fatalf("problem status %v", m["status"])
	}
}

func TestHealth(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		srv := newTestServer(t, fakeHealth{}, nil)
		for _, p := range []string{"/healthz", "/readyz"} {
			if resp, m := do(t, "GET", srv.URL+p, nil); resp.StatusCode != 200 {
				t.Fatalf("%s: %d %v", p, resp.StatusCode, m)
			}
		}
	})
	t.Run("ErrDatabaseGone", func(t *testing.T) {
		srv := newTestServer(t, fakeHealth{ping: models.ErrUnavailable}, nil)
		resp, m := do(t, "GET", srv.URL+"/readyz", nil)
		wantProblem(t, resp, m, 503)
		if resp, _ := do(t, "GET", srv.URL+"/healthz", nil); resp.StatusCode != 200 {
			t.Fatal("healthz must not depend on the database")
		}
	})
	t.Run("ErrSchemaBehind", func(t *testing.T) {
		srv := newTestServer(t, fakeHealth{schema: errors.New("run treue migrate")}, nil)
		resp, m := do(t, "GET", srv.URL+"/readyz", nil)
		wantProblem(t, resp, m, 503)
	})
}

func TestNotFoundAndMethod(t *testing.T) {
	srv := newTestServer(t, fakeHealth{}, nil)
	resp, m := do(t, "GET", srv.URL+"/nope", nil)
	wantProblem(t, resp, m, 404)
	resp, m = do(t, "DELETE", srv.URL+"/healthz", nil)
	wantProblem(t, resp, m, 405)
	if resp.Header.Get("X-Request-Id") == "" {
		t.Fatal("no request id")
	}
}

func TestMetrics(t *testing.T) {
	srv := newTestServer(t, fakeHealth{}, nil)
	do(t, "GET", srv.URL+"/healthz", nil)
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`treue_http_requests_total{method="GET",route="/healthz",status="200"} 1`, "treue_http_request_duration_seconds_bucket"} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("metrics lack %q", want)
		}
	}
}

func TestWebhook(t *testing.T) {
	var got *plugin.Delivery
	intake := fakeIntake(func(p models.Platform, d *plugin.Delivery) (inbox.Result, error) {
		got = d
		switch string(d.Body) {
		case "unauth":
			return inbox.Result{}, inbox.ErrUnknownShopOrSignature
		case "broken":
			return inbox.Result{}, &models.MalformedError{Err: errors.New("unexpected EOF")}
		case "invalid":
			return inbox.Result{}, &models.ValidationError{Fields: []models.FieldError{{Field: "data.order.id", Message: "is required"}}}
		case "down":
			return inbox.Result{}, models.ErrUnavailable
		case "boom":
			return inbox.Result{}, errors.New("secret internal detail")
		}
		return inbox.Result{Outcome: inbox.Stored, DeliveryID: "msg_1"}, nil
	})
	srv := newTestServer(t, fakeHealth{}, intake)
	url := srv.URL + "/webhooks/standard/acme"
	t.Run("OK", func(t *testing.T) {
		resp, m := do(t, "POST", url, strings.NewReader("ok"))
		if resp.StatusCode != 200 || m["status"] != "stored" || got.ShopKey != "acme" {
			t.Fatalf("%d %v", resp.StatusCode, m)
		}
	})
	tests := []struct {
		body   string
		status int
	}{{"unauth", 401}, {"broken", 400}, {"invalid", 422}, {"down", 503}, {"boom", 500}}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			resp, m := do(t, "POST", url, strings.NewReader(tt.body))
			wantProblem(t, resp, m, tt.status)
			if strings.Contains(m["detail"].(string), "secret internal") {
				t.Fatal("internal error text leaked")
			}
			if tt.status == 422 && m["errors"] == nil {
				t.Fatal("422 must name the field")
			}
			if tt.status == 503 && resp.Header.Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
		})
	}
	t.Run("ErrTooLarge", func(t *testing.T) {
		resp, m := do(t, "POST", url, bytes.NewReader(make([]byte, 2048)))
		wantProblem(t, resp, m, 413)
	})
	// A body without Content-Length (chunked) is read to its end, and capped too.
	t.Run("Chunked", func(t *testing.T) {
		resp, m := do(t, "POST", url, io.MultiReader(strings.NewReader("o"), strings.NewReader("k")))
		if resp.StatusCode != 200 || string(got.Body) != "ok" {
			t.Fatalf("%d %v %q", resp.StatusCode, m, got.Body)
		}
	})
	t.Run("ChunkedTooLarge", func(t *testing.T) {
		resp, m := do(t, "POST", url, io.MultiReader(bytes.NewReader(make([]byte, 2048))))
		wantProblem(t, resp, m, 413)
	})
	t.Run("ShopwareNotConfigured", func(t *testing.T) {
		resp, m := do(t, "GET", srv.URL+"/shopware/register?shop-id=x", nil)
		wantProblem(t, resp, m, 404)
	})
}

func TestRecovery(t *testing.T) {
	intake := fakeIntake(func(models.Platform, *plugin.Delivery) (inbox.Result, error) { panic("boom") })
	srv := newTestServer(t, fakeHealth{}, intake)
	resp, m := do(t, "POST", srv.URL+"/webhooks/shopware", strings.NewReader("{}"))
	wantProblem(t, resp, m, 500)
}

// TestWebhook_ContentType: every platform's own Content-Type is accepted;
// anything else, a missing one included, is answered 415 problem+json naming
// the accepted types, before the intake sees the delivery.
func TestWebhook_ContentType(t *testing.T) {
	calls := 0
	intake := fakeIntake(func(models.Platform, *plugin.Delivery) (inbox.Result, error) {
		calls++
		return inbox.Result{Outcome: inbox.Stored, DeliveryID: "msg_1"}, nil
	})
	srv := newTestServer(t, fakeHealth{}, intake)
	for _, path := range []string{"/webhooks/standard/acme", "/webhooks/shopware", "/webhooks/shopify", "/webhooks/adobe/acme-eu"} {
		for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON", "application/cloudevents+json", "application/cloudevents+json; charset=UTF-8"} {
			calls = 0
			resp, m := doHeader(t, "POST", srv.URL+path, http.Header{"Content-Type": {ct}}, strings.NewReader("{}"))
			if resp.StatusCode != 200 || calls != 1 {
				t.Errorf("POST %s as %q: %d %v", path, ct, resp.StatusCode, m)
			}
		}
		for _, ct := range []string{"", "text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp", "text/json", "json", "application/"} {
			calls = 0
			h := http.Header{}
			if ct != "" {
				h.Set("Content-Type", ct)
			}
			resp, m := doHeader(t, "POST", srv.URL+path, h, strings.NewReader(`{"type":"order.paid"}`))
			wantProblem(t, resp, m, http.StatusUnsupportedMediaType)
			if calls != 0 {
				t.Errorf("POST %s as %q reached the intake", path, ct)
			}
			if d := m["detail"].(string); !strings.Contains(d, "application/json") || !strings.Contains(d, "application/*+json") {
				t.Errorf("POST %s as %q: detail %q does not name the accepted types", path, ct, d)
			}
			if resp.Header.Get("Accept-Post") != "application/json, application/*+json" {
				t.Errorf("POST %s as %q: Accept-Post %q", path, ct, resp.Header.Get("Accept-Post"))
			}
		}
	}
}

// TestConsole_NotFound: a console path with no file is a problem+json 404
// like every other unknown path, with the request id.
func TestConsole_NotFound(t *testing.T) {
	srv := newTestServer(t, fakeHealth{}, nil)
	for _, p := range []string{"/console/nope.js", "/console/static/console.js"} {
		resp, m := do(t, "GET", srv.URL+p, nil)
		wantProblem(t, resp, m, 404)
		if m["request_id"] == nil || m["request_id"] != resp.Header.Get("X-Request-Id") || m["instance"] != p {
			t.Errorf("GET %s: %v (X-Request-Id %q)", p, m, resp.Header.Get("X-Request-Id"))
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", p)
		}
	}
	req, _ := http.NewRequest("HEAD", srv.URL+"/console/nope.js", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("HEAD: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ := do(t, "GET", srv.URL+"/console/", nil); resp.StatusCode != 200 {
		t.Errorf("GET /console/: %d", resp.StatusCode)
	}
}

// TestAdobeChallenge: the handshake echoes a token-like challenge, and a
// refused one is answered with what is wrong with it, not "required".
func TestAdobeChallenge(t *testing.T) {
	eng, err := New(Config{Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), Health: fakeHealth{}, MaxBodyBytes: 1024, AdobeChallenge: adobe.Challenge})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(eng)
	t.Cleanup(srv.Close)
	base := srv.URL + "/webhooks/adobe/acme-eu"
	if resp, m := do(t, "GET", base+"?challenge=8ec8d794-e0ab-42df-9017-e3dada8e84f7", nil); resp.StatusCode != 200 || m["challenge"] != "8ec8d794-e0ab-42df-9017-e3dada8e84f7" {
		t.Fatalf("a UUID: %d %v", resp.StatusCode, m)
	}
	for query, want := range map[string]string{
		"":                                       "the query parameter challenge is required",
		"?challenge=%3Cscript%3E":                `challenge has '<' at byte 1; only letters, digits, '-', '_' and '.' are accepted`,
		"?challenge=a+b":                         `challenge has ' ' at byte 2`,
		"?challenge=" + strings.Repeat("a", 200): "challenge is 200 bytes long; at most 128 are accepted",
		"?challenge=%zz":                         "the query string is not valid URL encoding",
	} {
		resp, m := do(t, "GET", base+query, nil)
		wantProblem(t, resp, m, http.StatusBadRequest)
		if d := m["detail"].(string); !strings.Contains(d, want) || strings.Contains(d, "script") {
			t.Errorf("GET %s: detail %q, want it to say %q", query, d, want)
		}
		if errs, _ := m["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["field"] != "challenge" {
			t.Errorf("GET %s: errors %v", query, m["errors"])
		}
	}
}
