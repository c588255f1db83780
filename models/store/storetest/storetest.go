// Package storetest opens throwaway databases for tests: a fresh SQLite file,
// and a freshly named MySQL database on the server TREUE_TEST_MYSQL_DSN names.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/treue/treue/models/store"
	"github.com/treue/treue/models/store/sqlcapture"
	"github.com/treue/treue/security"
)

// EnvCapture names a directory: when set, every MySQL test store records
// the shapes of its statements there, one file per test binary, for the
// Vitess planner check (deploy/vitess/check).
const EnvCapture = "TREUE_SQL_CAPTURE"

// capture is the test binary's statement recorder, nil when EnvCapture is
// unset. A test-only hook: the store itself keeps no globals.
var capture = sync.OnceValues(func() (*sqlcapture.Recorder, error) {
	dir := os.Getenv(EnvCapture)
	if dir == "" {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return sqlcapture.Open(filepath.Join(dir, fmt.Sprintf("%d.jsonl", os.Getpid())))
})

// Recorder is the statement recorder of the test binary for a store on
// driver, nil unless EnvCapture is set and driver is MySQL (the dialect
// Vitess speaks). Open uses it; so do tests that open a store otherwise
// (cmd/treue's, through its configuration).
func Recorder(tb testing.TB, driver string) store.StatementRecorder {
	if driver != "mysql" {
		return nil
	}
	rec, err := capture()
	if err != nil {
		tb.Fatalf("%s: %v", EnvCapture, err)
	}
	if rec == nil {
		return nil // not a nil *Recorder in a non-nil interface
	}
	return rec
}

// EnvMySQL names the MySQL server tests use, e.g.
// root:@tcp(127.0.0.1:3306)/?parseTime=true
const EnvMySQL = "TREUE_TEST_MYSQL_DSN"

// Drivers are the dialects every store test runs on.
var Drivers = []string{"sqlite", "mysql"}

var seq atomic.Int64

// skipNoted is whether a MySQL skip of this test binary (one package) has
// named the package yet.
var skipNoted sync.Once

// callerPackage is the import path of the first caller outside storetest.
func callerPackage() string {
	pcs := make([]uintptr, 16)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		slash := strings.LastIndex(f.Function, "/")
		pkg := f.Function
		if dot := strings.Index(f.Function[slash+1:], "."); dot >= 0 {
			pkg = f.Function[:slash+1+dot]
		}
		if !strings.HasSuffix(pkg, "/storetest") || !more {
			return strings.TrimSuffix(pkg, "_test") // an external test package tests its package
		}
	}
}

// SecretKey is the security.secret_key of test databases.
var SecretKey = strings.Repeat("t", 32)

// Sealer returns a sealer with the test key.
func Sealer(tb testing.TB) *security.Sealer {
	s, err := security.NewSealer(SecretKey)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// DSN creates an empty database for driver and returns its DSN; it is dropped
// when the test ends. The MySQL variant skips when TREUE_TEST_MYSQL_DSN is
// unset (CI always sets it).
func DSN(tb testing.TB, driver string) string {
	tb.Helper()
	switch driver {
	case "sqlite":
		return filepath.Join(tb.TempDir(), "treue.db")
	case "mysql":
		base := os.Getenv(EnvMySQL)
		if base == "" && os.Getenv("CI") != "" {
			tb.Fatalf("%s is not set: CI must run the MySQL variant", EnvMySQL)
		}
		if base == "" {
			// go test shows a passing package's output only with -v; then the
			// first skip names the package, so that
			// `go test -v ./... | grep 'MySQL variants of'` is one line per package.
			first := false
			skipNoted.Do(func() { first = true })
			if first {
				tb.Skipf("%s is not set: the MySQL variants of %s are skipped (CI sets it)", EnvMySQL, callerPackage())
			}
			tb.Skipf("%s is not set: skipping the MySQL variant (CI sets it)", EnvMySQL)
		}
		cfg, err := gomysql.ParseDSN(base)
		if err != nil {
			tb.Fatalf("%s: %v", EnvMySQL, err)
		}
		name := fmt.Sprintf("treue_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, seq.Add(1))
		cfg.DBName = ""
		admin, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			tb.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
			admin.Close()
			tb.Fatalf("create test database: %v", err)
		}
		tb.Cleanup(func() {
			admin.Exec("DROP DATABASE IF EXISTS " + name)
			admin.Close()
		})
		cfg.DBName = name
		return cfg.FormatDSN()
	}
	tb.Fatalf("unknown driver %q", driver)
	return ""
}

// Open returns a migrated store on a fresh database.
func Open(tb testing.TB, driver string) *store.Store {
	tb.Helper()
	s := OpenEmpty(tb, driver)
	if _, err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return s
}

// OpenEmpty returns a store on a fresh, unmigrated database.
func OpenEmpty(tb testing.TB, driver string) *store.Store {
	tb.Helper()
	return OpenDSN(tb, driver, DSN(tb, driver))
}

// OpenDSN opens a store on an existing database.
func OpenDSN(tb testing.TB, driver, dsn string) *store.Store {
	tb.Helper()
	cfg := Config(driver, dsn)
	cfg.Statements = Recorder(tb, driver)
	s, err := store.Open(context.Background(), cfg, Sealer(tb), nil)
	if err != nil {
		tb.Fatalf("open %s: %v", driver, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Config is a store config for tests.
func Config(driver, dsn string) store.Config {
	return store.Config{Driver: driver, DSN: dsn, MaxOpenConns: 10, MaxIdleConns: 5, ConnMaxLifetime: time.Minute}
}

// Each runs fn as a subtest per driver.
func Each(t *testing.T, fn func(t *testing.T, driver string)) {
	for _, d := range Drivers {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

// Clock is a settable clock for a store (Store.Now) and the code under test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
