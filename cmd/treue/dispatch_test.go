package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/storetest"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/plugin/standard"
)

// fakeShop receives signed action webhooks the way a merchant's endpoint
// does: it verifies the signature and applies each webhook-id once.
type fakeShop struct {
	mu        sync.Mutex
	delivered map[string]int // webhook-id → deliveries
	delay     time.Duration
	srv       *httptest.Server
}

func newFakeShop(t *testing.T, delay time.Duration) *fakeShop {
	f := &fakeShop{delivered: map[string]int{}, delay: delay}
	recv := standard.New(5 * time.Minute)
	shop := &models.Shop{Secrets: models.ShopSecrets{Webhook: []string{acmeSecret}}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(400)
			return
		}
		if err := recv.Verify(r.Context(), &plugin.Delivery{Header: r.Header, Body: body}, shop, time.Now()); err != nil {
			w.WriteHeader(401)
			return
		}
		time.Sleep(f.delay)
		f.mu.Lock()
		f.delivered[r.Header.Get("webhook-id")]++
		f.mu.Unlock()
		w.WriteHeader(204)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// applied counts distinct effects and all deliveries.
func (f *fakeShop) applied() (distinct, deliveries int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.delivered {
		distinct++
		deliveries += n
	}
	return
}

// buildTreue compiles the binary once per test run.
func buildTreue(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "treue")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// osProcess is one `treue serve` OS process.
type osProcess struct {
	cmd *exec.Cmd
}

func startProcess(t *testing.T, bin, config string, env []string, logFile string) *osProcess {
	t.Helper()
	log, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", config, "serve")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &osProcess{cmd: cmd}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		log.Close()
	})
	return p
}

func (p *osProcess) kill9() {
	p.cmd.Process.Kill() // SIGKILL: no shutdown, no lease release
	p.cmd.Wait()
}

// dispatchSetup makes a MySQL database with the acme shop (notify connector
// pointing at the fake shop) and n due actions.
func dispatchSetup(t *testing.T, fake *fakeShop, n int, lease time.Duration) (config string, env []string, st *store.Store, dir string) {
	t.Helper()
	dir = t.TempDir()
	dsn := storetest.DSN(t, "mysql")
	config = filepath.Join(dir, "treue.yaml")
	cfg := fmt.Sprintf(`http:
  addr: "127.0.0.1:0"
database:
  driver: mysql
  dsn: %q
  auto_migrate: true
dispatch:
  lease: %s
  poll_interval: 100ms
  workers: 4
  rate_per_second: 1000
  burst: 1000
  allow_hosts: ["127.0.0.1"]
  backoff_base: 1s
  backoff_cap: 2s
shops:
  - key: acme
    platform: standard
    secret: %s
    notify_url: %s
`, dsn, lease, acmeSecret, fake.srv.URL)
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env = []string{"TREUE_SECURITY_SECRET_KEY=" + storetest.SecretKey, "TREUE_LOG_LEVEL=warn", "TREUE_RULES_FILE=" + filepath.Join(dir, "none.yaml")}
	st = storetest.OpenDSN(t, "mysql", dsn)
	ctx := context.Background()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	shop := &models.Shop{Key: "acme", Platform: models.PlatformStandard, Source: "config",
		Secrets: models.ShopSecrets{Webhook: []string{acmeSecret}, NotifyURL: fake.srv.URL}}
	if err := st.SaveShop(ctx, shop); err != nil {
		t.Fatal(err)
	}
	err := st.InTx(ctx, func(tx *store.Store) error {
		cust, _, err := tx.ResolveCustomer(ctx, shop.ID, models.CustomerRef{ID: "c-1"})
		if err != nil {
			return err
		}
		for i := range n {
			a := &models.Action{ShopID: shop.ID, CustomerID: cust, Type: models.ActionTagCustomer, Status: models.ActionScheduled,
				RuleID: "r", RulesVersion: "v", DueAt: time.Now().UTC().Add(-time.Minute), IdempotencyKey: fmt.Sprintf("act-%05d", i),
				Params: map[string]any{"tag": "vip"}}
			if _, err := tx.InsertAction(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return config, env, st, dir
}

func waitAllSent(t *testing.T, st *store.Store, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		counts, err := st.ActionCounts(context.Background(), 0)
		if err == nil && counts[models.ActionSent] == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d of %d sent; statuses %v", within, counts[models.ActionSent], n, counts)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDispatch_TwoProcesses: two `treue serve` processes on one MySQL
// database deliver each of many due actions exactly once.
func TestDispatch_TwoProcesses(t *testing.T) {
	if os.Getenv(storetest.EnvMySQL) == "" && os.Getenv("CI") == "" {
		t.Skip(storetest.EnvMySQL + " is not set")
	}
	n := 300
	if v, err := strconv.Atoi(os.Getenv("TREUE_DISPATCH_N")); err == nil && v > 0 {
		n = v // a larger run measures throughput: TREUE_DISPATCH_N=3000
	}
	fake := newFakeShop(t, 2*time.Millisecond)
	// A lease far longer than any call: a second delivery could then only
	// come from two processes holding one action, which is what this checks.
	config, env, st, dir := dispatchSetup(t, fake, n, time.Minute)
	bin := buildTreue(t)
	startProcess(t, bin, config, env, filepath.Join(dir, "a.log"))
	startProcess(t, bin, config, env, filepath.Join(dir, "b.log"))
	start := time.Now()
	waitAllSent(t, st, n, 60*time.Second)
	t.Logf("%d actions delivered by two processes in %v (%.0f/s, including startup)", n, time.Since(start), float64(n)/time.Since(start).Seconds())
	distinct, deliveries := fake.applied()
	if distinct != n || deliveries != n {
		t.Fatalf("%d distinct actions in %d deliveries, want %d once each", distinct, deliveries, n)
	}
}

// TestDispatch_Kill9: kill -9 the only process several times during dispatch;
// after a restart every action is delivered, none is lost, and the shop
// applies each once (deliveries cut off mid-call are repeated under the same
// webhook-id, which the shop deduplicates).
func TestDispatch_Kill9(t *testing.T) {
	if os.Getenv(storetest.EnvMySQL) == "" && os.Getenv("CI") == "" {
		t.Skip(storetest.EnvMySQL + " is not set")
	}
	const n = 120
	fake := newFakeShop(t, 40*time.Millisecond)
	// A short lease, so actions cut off by a kill come back quickly.
	config, env, st, dir := dispatchSetup(t, fake, n, 3*time.Second)
	bin := buildTreue(t)
	for i := 0; i < 3; i++ {
		p := startProcess(t, bin, config, env, filepath.Join(dir, "serve.log"))
		time.Sleep(time.Duration(400+200*i) * time.Millisecond)
		p.kill9()
	}
	startProcess(t, bin, config, env, filepath.Join(dir, "serve.log"))
	waitAllSent(t, st, n, 90*time.Second)
	distinct, deliveries := fake.applied()
	if distinct != n {
		t.Fatalf("the shop applied %d distinct actions, want %d", distinct, n)
	}
	// At most the calls in flight at each kill can be repeated.
	if extra := deliveries - n; extra > 3*4 {
		t.Fatalf("%d repeated deliveries, more than the calls in flight at three kills", extra)
	}
	t.Logf("%d actions, %d deliveries across 3 kills", n, deliveries)
}
