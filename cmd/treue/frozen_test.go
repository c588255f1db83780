package main

import (
	"database/sql"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite"
)

// freezer is a TCP proxy to a database that can stop relaying bytes, the
// way a database stopped with SIGSTOP stops answering: connections stay
// open, nothing comes back.
type freezer struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	frozen bool
	thaw   chan struct{}
}

func newFreezer(t *testing.T, target string) *freezer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln, target: target, thaw: make(chan struct{})}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.relay(c)
		}
	}()
	t.Cleanup(func() {
		f.set(false)
		ln.Close()
	})
	return f
}

func (f *freezer) set(frozen bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.frozen && !frozen {
		close(f.thaw)
		f.thaw = make(chan struct{})
	}
	f.frozen = frozen
}

// wait blocks while the proxy is frozen.
func (f *freezer) wait() {
	f.mu.Lock()
	frozen, thaw := f.frozen, f.thaw
	f.mu.Unlock()
	if frozen {
		<-thaw
	}
}

func (f *freezer) relay(c net.Conn) {
	up, err := net.Dial("tcp", f.target)
	if err != nil {
		c.Close()
		return
	}
	pipe := func(dst, src net.Conn) {
		defer dst.Close()
		defer src.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			f.wait()
			if n > 0 {
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go pipe(up, c)
	pipe(c, up)
}

// TestFrozenDatabase: with the database not answering, webhooks and
// /readyz are answered 503 with Retry-After once database.request_timeout
// has passed, instead of hanging until the sender gives up; afterwards
// deliveries are stored again.
func TestFrozenDatabase(t *testing.T) {
	eachDriver(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, "")
		var freeze, thaw func()
		switch driver {
		case "mysql":
			f := newFreezer(t, "127.0.0.1:3306")
			cfg := strings.Replace(string(must(os.ReadFile(e.configPath))), "tcp(127.0.0.1:3306)", "tcp("+f.ln.Addr().String()+")", 1)
			if !strings.Contains(cfg, f.ln.Addr().String()) {
				t.Fatalf("the test DSN does not name 127.0.0.1:3306:\n%s", cfg)
			}
			os.WriteFile(e.configPath, []byte(cfg), 0o600)
			freeze, thaw = func() { f.set(true) }, func() { f.set(false) }
		case "sqlite":
			// Another process holding the write lock is SQLite's frozen database.
			var db *sql.DB
			var tx *sql.Tx
			freeze = func() {
				var err error
				if db, err = sql.Open("sqlite", e.dsn); err != nil {
					t.Fatal(err)
				}
				if tx, err = db.Begin(); err != nil {
					t.Fatal(err)
				}
				if _, err := tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'lock', '2026-01-01')"); err != nil {
					t.Fatal(err)
				}
			}
			thaw = func() {
				if tx != nil {
					tx.Rollback()
					db.Close()
					tx = nil
				}
			}
		}
		e.env["TREUE_DATABASE_REQUEST_TIMEOUT"] = "500ms"
		in := e.serve(t)
		t.Cleanup(thaw)
		url := in.URL + "/webhooks/standard/acme"
		if code, m := post(t, url, "before", placed); code != 200 {
			t.Fatalf("before the freeze: %d %v", code, m)
		}
		waitDrained(t, e)
		freeze()
		client := &http.Client{Timeout: 10 * time.Second}
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				code, _ := post(t, url, "frozen-"+string(rune('a'+i)), paid)
				if code != 503 || time.Since(start) > 5*time.Second {
					t.Errorf("webhook with the database frozen: %d after %s, want a prompt 503", code, time.Since(start))
				}
			}()
		}
		start := time.Now()
		resp, err := client.Get(in.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if driver == "mysql" && (resp.StatusCode != 503 || time.Since(start) > 5*time.Second) {
			t.Errorf("/readyz with the database frozen: %d after %s, want a prompt 503", resp.StatusCode, time.Since(start))
		}
		wg.Wait()
		thaw()
		// The sender's retry goes through once the database answers again.
		waitFor(t, func() bool {
			code, _ := post(t, url, "frozen-a", paid)
			return code == 200
		})
	})
}
