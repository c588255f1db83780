package store

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A SQLite file opened from a plain path gets the settings the store relies
// on: WAL, durable commits, a busy timeout, and checkpoints every ~40 MB.
func TestOpen_SQLitePragmas(t *testing.T) {
	ctx := context.Background()
	{
		s, err := Open(ctx, Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "t.db"), MaxOpenConns: 1, ConnMaxLifetime: time.Minute}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for pragma, want := range map[string]string{
			"journal_mode": "wal", "synchronous": "2" /* FULL */, "busy_timeout": "10000", "foreign_keys": "1",
			"wal_autocheckpoint": "10000", "journal_size_limit": "67108864",
		} {
			var got string
			if err := s.db.WithContext(ctx).Raw("PRAGMA " + pragma).Scan(&got).Error; err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
			}
		}
	}
}

// TestOpen_SQLiteFilesPrivate: a new SQLite database and the -wal and -shm
// files SQLite creates beside it are readable by their owner only, whatever
// the umask lets SQLite's default of 0644 through: they hold personal data.
func TestOpen_SQLiteFilesPrivate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, dsn := range []string{filepath.Join(dir, "plain.db"), "file:" + filepath.Join(dir, "uri.db") + "?_pragma=journal_mode(WAL)"} {
		s, err := Open(ctx, Config{Driver: "sqlite", DSN: dsn, MaxOpenConns: 1, ConnMaxLifetime: time.Minute}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		path := sqliteFile(dsn)
		for _, f := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(f)
			if err != nil {
				t.Fatalf("%s: %v", dsn, err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("%s: mode %v, want -rw-------", f, perm)
			}
		}
		s.Close()
	}
}

// TestOpen_SQLiteExistingFileKept: an existing database is opened as it is,
// its data and mode untouched; one that others may read is warned about.
func TestOpen_SQLiteExistingFileKept(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := Open(ctx, Config{Driver: "sqlite", DSN: path, MaxOpenConns: 1, ConnMaxLifetime: time.Minute}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s, err = Open(ctx, Config{Driver: "sqlite", DSN: path, MaxOpenConns: 1, ConnMaxLifetime: time.Minute}, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CheckSchema(ctx); err != nil {
		t.Fatalf("the existing database lost its schema: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode changed to %v", fi.Mode().Perm())
	}
	if !strings.Contains(logs.String(), "may be read by other users") || !strings.Contains(logs.String(), "chmod 600") {
		t.Errorf("no warning about a readable database: %s", logs.String())
	}
}

func TestSQLiteFile(t *testing.T) {
	for dsn, want := range map[string]string{
		"treue.db":                             "treue.db",
		"/var/lib/treue/treue.db":              "/var/lib/treue/treue.db",
		"treue.db?_pragma=busy_timeout(10000)": "treue.db",
		"file:treue.db?_txlock=immediate":      "treue.db",
		"file:///var/lib/treue/treue.db":       "/var/lib/treue/treue.db",
		"file://localhost/var/lib/treue/t.db":  "/var/lib/treue/t.db",
		"file:my%20shop.db":                    "my shop.db",
		":memory:":                             "",
		"file::memory:?cache=shared":           "",
		"file:x.db?mode=memory":                "",
	} {
		if got := sqliteFile(dsn); got != want {
			t.Errorf("sqliteFile(%q) = %q, want %q", dsn, got, want)
		}
	}
}
