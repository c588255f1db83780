package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/treue/treue/plugin/standard"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// TestSend_FollowsTREUE_HTTP_ADDR: without -url, send posts to the port
// TREUE_HTTP_ADDR gives treue serve, signed as Standard Webhooks.
func TestSend_FollowsTREUE_HTTP_ADDR(t *testing.T) {
	key, _ := standard.DecodeSecret(secret)
	var got *http.Request
	var body bytes.Buffer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		body.ReadFrom(r.Body)
		w.Write([]byte(`{"status":"accepted"}`))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	_, port, _ := strings.Cut(u.Host, ":")

	var out, errOut bytes.Buffer
	env := map[string]string{"TREUE_HTTP_ADDR": ":" + port}
	code := run([]string{"-shop", "acme", "../../plugin/standard/testdata/order.paid.json"}, func(k string) string { return env[k] }, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if got == nil || got.URL.Path != "/webhooks/standard/acme" {
		t.Fatalf("request %v, want POST /webhooks/standard/acme on port %s", got, port)
	}
	ts, _ := strconv.ParseInt(got.Header.Get("webhook-timestamp"), 10, 64)
	if time.Since(time.Unix(ts, 0)) > time.Minute ||
		got.Header.Get("webhook-signature") != standard.SignatureHeader(key, got.Header.Get("webhook-id"), ts, body.Bytes()) {
		t.Fatalf("not signed as Standard Webhooks: %v", got.Header)
	}
	if !strings.HasPrefix(out.String(), "200 OK") {
		t.Fatalf("output %q", out.String())
	}
}

func TestDefaultURL(t *testing.T) {
	for addr, want := range map[string]string{"": "http://localhost:8080", ":9090": "http://localhost:9090", "127.0.0.1:9091": "http://127.0.0.1:9091"} {
		if got := defaultURL(func(string) string { return addr }); got != want {
			t.Errorf("TREUE_HTTP_ADDR=%q: %q, want %q", addr, got, want)
		}
	}
}

func TestSend_HelpAndUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	none := func(string) string { return "" }
	if code := run([]string{"-h"}, none, &out, &errOut); code != 0 || !strings.Contains(errOut.String(), "TREUE_HTTP_ADDR") {
		t.Fatalf("-h: exit %d, %s", code, errOut.String())
	}
	if code := run(nil, none, &out, &errOut); code != 2 {
		t.Fatalf("no file: exit %d, want 2", code)
	}
}
