package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/plugin/standard"
)

const acmeSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// instance is one running `treue serve`.
type instance struct {
	URL    string
	Logs   *syncBuffer
	cancel context.CancelFunc
	done   chan struct{} // closed when serve returned; err is then set
	err    error
}

// Stop sends the shutdown signal and waits for serve to return.
func (in *instance) Stop(t *testing.T) {
	t.Helper()
	in.cancel()
	select {
	case <-in.done:
		if in.err != nil {
			t.Fatalf("serve returned %v", in.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// testEnv is a database plus the config that points treue at it.
type testEnv struct {
	driver, dsn, dir, configPath string
	env                          map[string]string
	statements                   store.StatementRecorder
	// shopifyAPI is Main.ShopifyAPI (stocklookup_test.go).
	shopifyAPI string
}

func newEnv(t *testing.T, driver string, extraConfig string) *testEnv {
	t.Helper()
	dir := t.TempDir()
	e := &testEnv{driver: driver, dir: dir, dsn: storetest.DSN(t, driver), statements: storetest.Recorder(t, driver), env: map[string]string{
		"TREUE_SECURITY_SECRET_KEY":    storetest.SecretKey,
		"TREUE_WEBHOOKS_POLL_INTERVAL": "20ms",
		// Tests that check planned actions must not race the dispatcher;
		// the dispatch tests switch it on.
		"TREUE_DISPATCH_ENABLED": "false",
	}}
	cfg := fmt.Sprintf(`http:
  addr: "127.0.0.1:0"
database:
  driver: %s
  dsn: %q
  auto_migrate: true
shops:
  - key: acme
    platform: standard
    name: ACME Coffee
    timezone: Europe/Berlin
    currency: EUR
    secret: %s
%s`, driver, e.dsn, acmeSecret, extraConfig)
	e.configPath = filepath.Join(dir, "treue.yaml")
	if err := os.WriteFile(e.configPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *testEnv) main(stdout, stderr io.Writer) *Main {
	return &Main{Stdout: stdout, Stderr: stderr, Getenv: func(k string) string { return e.env[k] }, Statements: e.statements, ShopifyAPI: e.shopifyAPI}
}

// run runs one CLI command to completion.
func (e *testEnv) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := e.main(&out, &errOut).Run(context.Background(), append([]string{"--config", e.configPath}, args...))
	return out.String(), err
}

func (e *testEnv) serve(t *testing.T) *instance {
	t.Helper()
	logs := &syncBuffer{}
	m := e.main(io.Discard, logs)
	addr := make(chan string, 1)
	m.Ready = func(a string) { addr <- a }
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{Logs: logs, cancel: cancel, done: make(chan struct{})}
	go func() {
		in.err = m.Run(ctx, []string{"--config", e.configPath, "serve"})
		close(in.done)
	}()
	select {
	case a := <-addr:
		in.URL = "http://" + a
	case <-in.done:
		cancel()
		t.Fatalf("serve failed to start: %v\n%s", in.err, logs)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	t.Cleanup(func() {
		cancel()
		<-in.done
	})
	return in
}

func (e *testEnv) store(t *testing.T) *store.Store {
	return storetest.OpenDSN(t, e.driver, e.dsn)
}

// post sends a Standard Webhooks delivery signed with acme's secret.
func post(t *testing.T, url, id string, body string) (int, map[string]any) {
	t.Helper()
	return postWith(t, url, acmeSecret, id, body)
}

// postWith sends a Standard Webhooks delivery signed with secret.
func postWith(t *testing.T, url, secret, id string, body string) (int, map[string]any) {
	t.Helper()
	key, _ := standard.DecodeSecret(secret)
	ts := time.Now().Unix()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", standard.SignatureHeader(key, id, ts, []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func eachDriver(t *testing.T, fn func(t *testing.T, driver string)) { storetest.Each(t, fn) }

func TestMigrateCommand(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, "")
		out, err := e.run(t, "migrate")
		if err != nil || !strings.Contains(out, "database schema at version") {
			t.Fatalf("migrate: %q %v", out, err)
		}
		out2, err := e.run(t, "migrate")
		if err != nil || out2 != out {
			t.Fatalf("rerun: %q %v", out2, err)
		}
	})
}

func TestServe_RefusesSchemaBehind(t *testing.T) {
	e := newEnv(t, "mysql", "")
	os.WriteFile(e.configPath, bytes.Replace(must(os.ReadFile(e.configPath)), []byte("auto_migrate: true"), []byte("auto_migrate: false"), 1), 0o600)
	_, err := e.run(t, "serve")
	if err == nil || !strings.Contains(err.Error(), "treue migrate") {
		t.Fatalf("serve on an empty MySQL schema: %v", err)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestRun_Errors(t *testing.T) {
	e := newEnv(t, "sqlite", "")
	if _, err := e.run(t, "frobnicate"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("got %v", err)
	}
	bad := filepath.Join(e.dir, "bad.yaml")
	os.WriteFile(bad, []byte("http:\n  addr: \":1\"\n  adress: x\n"), 0o600)
	var out bytes.Buffer
	err := e.main(&out, &out).Run(context.Background(), []string{"--config", bad, "serve"})
	if err == nil || !strings.Contains(err.Error(), `bad.yaml:3: http.adress: unknown key (did you mean "addr"?)`) {
		t.Fatalf("got %v", err)
	}

	// --config after the command is the same flag: never a server on the defaults.
	for _, args := range [][]string{{"serve", "--config", bad}, {"serve", "--config=" + bad}, {"--config", bad, "serve", "--config", bad}} {
		err := e.main(&out, &out).Run(context.Background(), args)
		if err == nil || !strings.Contains(err.Error(), "bad.yaml:3: http.adress: unknown key") {
			t.Errorf("%q: got %v", args, err)
		}
	}
	for args, want := range map[string]string{
		"serve extra":                      `serve takes no arguments, got "extra"`,
		"migrate --config":                 "migrate: --config needs a FILE",
		"migrate --config=":                "migrate: --config needs a FILE",
		"--config= migrate":                "--config needs a FILE",
		"--config a.yaml serve --config b": "--config given twice (a.yaml and b)",
		"shops list --config a --config b": "--config given twice (a and b)",
	} {
		err := e.main(&out, &out).Run(context.Background(), strings.Fields(args))
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want a usage error saying %q", args, err, want)
		}
	}
}

const (
	placed    = `{"type":"order.placed","timestamp":"2026-11-02T09:15:00Z","data":{"customer":{"id":"c-77","number":"C10077","email":"anna@example.org","first_name":"Anna"},"order":{"id":"o-1042","number":"10042","placed_at":"2026-11-02T09:14:31Z","currency":"EUR","total":"59.80","items":[{"sku":"COFFEE-500","category":"coffee","quantity":2,"unit_price":"14.90"}]}}}`
	paid      = `{"type":"order.paid","timestamp":"2026-11-02T09:16:00Z","data":{"customer":{"id":"c-77"},"order":{"id":"o-1042","paid_at":"2026-11-02T09:15:40Z"}}}`
	shipped   = `{"type":"shipment.shipped","timestamp":"2026-11-03T14:00:00Z","data":{"customer":{"id":"c-77"},"order":{"id":"o-1042"},"shipment":{"id":"s-9","carrier":"DHL","tracking":"00340434","shipped_at":"2026-11-03T13:55:00Z","promised_delivery_at":"2026-11-05T18:00:00Z"}}}`
	delivered = `{"type":"shipment.delivered","timestamp":"2026-11-05T11:00:00Z","data":{"customer":{"id":"c-77"},"order":{"id":"o-1042"},"shipment":{"id":"s-9","delivered_at":"2026-11-05T10:42:00Z"}}}`
)

// TestEndToEnd posts a journey through real HTTP, out of order and with
// duplicates, and reads it back from the database.
func TestEndToEnd(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, "")
		in := e.serve(t)
		url := in.URL + "/webhooks/standard/acme"
		// delivered and paid arrive before placed; paid twice (a retry), and
		// shipped twice under different delivery ids (two topics, one step).
		steps := []struct{ id, body string }{
			{"msg_4", delivered}, {"msg_2", paid}, {"msg_2", paid}, {"msg_1", placed},
			{"msg_3", shipped}, {"msg_3b", shipped},
		}
		for _, s := range steps {
			if code, m := post(t, url, s.id, s.body); code != 200 {
				t.Fatalf("%s: %d %v", s.id, code, m)
			}
		}
		if code, m := post(t, url, "msg_2", paid); code != 200 || m["status"] != "duplicate" {
			t.Fatalf("redelivery: %d %v", code, m)
		}
		st := e.store(t)
		ctx := context.Background()
		shop, err := st.ShopByKey(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		var prof *models.Profile
		waitFor(t, func() bool {
			n, _, err := st.InboxBacklog(ctx)
			if err != nil || n > 0 {
				return false
			}
			prof, err = st.CustomerByIdentity(ctx, shop.ID, models.IdentityEmail, "anna@example.org")
			return err == nil
		})
		evs, err := st.CustomerEvents(ctx, prof.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, ev := range evs {
			types = append(types, ev.Type)
		}
		if got, want := strings.Join(types, ","), "order.placed,order.paid,shipment.shipped,shipment.delivered"; got != want {
			t.Fatalf("journey %s, want %s", got, want)
		}
		if prof.OrderCount != 1 || prof.PositiveOrderCount != 1 || prof.TotalSpentCents != 5980 || prof.Stage != models.StageFirstPurchase {
			t.Fatalf("profile %+v", prof)
		}
		// The same customer by every identity the shop used.
		for _, id := range []struct{ kind, value string }{{models.IdentityID, "c-77"}, {models.IdentityNumber, "C10077"}} {
			p, err := st.CustomerByIdentity(ctx, shop.ID, id.kind, id.value)
			if err != nil || p.CustomerID != prof.CustomerID {
				t.Fatalf("%s=%s: %v %v", id.kind, id.value, p, err)
			}
		}
		if strings.Contains(in.Logs.String(), "anna@example.org") || strings.Contains(in.Logs.String(), acmeSecret) {
			t.Fatal("logs contain an e-mail address or a secret")
		}
		in.Stop(t)
	})
}

// TestWebhook_BadInputStoresNothing: every refused delivery leaves the inbox
// empty. (An authentic delivery is never refused for its content:
// TestWebhook_AuthenticButUnparsed.)
func TestWebhook_BadInputStoresNothing(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, "")
		in := e.serve(t)
		url := in.URL + "/webhooks/standard/acme"
		send := func(mod func(*http.Request), body string) (int, string) {
			key, _ := standard.DecodeSecret(acmeSecret)
			ts := time.Now().Unix()
			req, _ := http.NewRequest("POST", url, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("webhook-id", "msg_x")
			req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
			req.Header.Set("webhook-signature", standard.SignatureHeader(key, "msg_x", ts, []byte(body)))
			mod(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			return resp.StatusCode, resp.Header.Get("Content-Type")
		}
		none := func(*http.Request) {}
		tests := []struct {
			name   string
			mod    func(*http.Request)
			body   string
			status int
		}{
			{"WrongSignature", func(r *http.Request) { r.Header.Set("webhook-signature", "v1,AAAA") }, paid, 401},
			{"NoSignature", func(r *http.Request) { r.Header.Del("webhook-signature") }, paid, 401},
			{"Stale", func(r *http.Request) { r.Header.Set("webhook-timestamp", "1000000000") }, paid, 401},
			{"UnknownShop", func(r *http.Request) { r.URL.Path = "/webhooks/standard/nobody" }, paid, 401},
			{"TooLarge", none, `{"pad":"` + strings.Repeat("x", 2<<20) + `"}`, 413},
			{"NotJSON", func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, paid, 415},
			{"Form", func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }, paid, 415},
			{"NoContentType", func(r *http.Request) { r.Header.Del("Content-Type") }, paid, 415},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, ct := send(tt.mod, tt.body)
				if code != tt.status || ct != "application/problem+json" {
					t.Fatalf("status %d (%s), want %d", code, ct, tt.status)
				}
			})
		}
		if code, _ := send(none, `{"type":"cart.abandoned","timestamp":"2026-11-02T09:16:00Z","data":{}}`); code != 200 {
			t.Fatalf("unknown event type: %d, want 200", code)
		}
		st := e.store(t)
		shop, _ := st.ShopByKey(context.Background(), "acme")
		if _, err := st.InboxByDelivery(context.Background(), shop.ID, "msg_x"); err == nil {
			t.Fatal("a refused or ignored delivery was stored")
		}
	})
}

// TestShutdown_DrainsInFlight: a request in progress when the signal comes
// still completes and is stored.
func TestShutdown_DrainsInFlight(t *testing.T) {
	e := newEnv(t, "sqlite", "")
	in := e.serve(t)
	key, _ := standard.DecodeSecret(acmeSecret)
	ts := time.Now().Unix()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", in.URL+"/webhooks/standard/acme", pr)
	req.ContentLength = int64(len(paid))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", "msg_drain")
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", standard.SignatureHeader(key, "msg_drain", ts, []byte(paid)))
	result := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			result <- -1
			return
		}
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	pw.Write([]byte(paid[:20]))
	time.Sleep(100 * time.Millisecond) // the request is now in flight
	stopped := make(chan struct{})
	go func() { in.Stop(t); close(stopped) }()
	time.Sleep(100 * time.Millisecond)
	pw.Write([]byte(paid[20:]))
	pw.Close()
	if code := <-result; code != 200 {
		t.Fatalf("in-flight request got %d", code)
	}
	<-stopped
	st := e.store(t)
	shop, _ := st.ShopByKey(context.Background(), "acme")
	if _, err := st.InboxByDelivery(context.Background(), shop.ID, "msg_drain"); err != nil {
		t.Fatalf("drained request not stored: %v", err)
	}
}

func TestReadyz_DatabaseGone(t *testing.T) {
	e := newEnv(t, "mysql", "")
	in := e.serve(t)
	resp, err := http.Get(in.URL + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("ready: %v %v", resp, err)
	}
	resp.Body.Close()
	st := e.store(t)
	_ = st
	dropDatabase(t, e.dsn)
	resp, err = http.Get(in.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("readyz with the database gone: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func decodeJSON(resp *http.Response, v any) { json.NewDecoder(resp.Body).Decode(v) }
