package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// A SQLite file opened from a plain path gets the settings the store relies
// on: WAL, durable commits, a busy timeout, and checkpoints every ~40 MB.
func TestOpen_SQLitePragmas(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "t.db"), MaxOpenConns: 1, ConnMaxLifetime: time.Minute}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for pragma, want := range map[string]string{
		"journal_mode": "wal", "synchronous": "2", "busy_timeout": "10000", "foreign_keys": "1",
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
