package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// A SQLite file opened from a plain path gets the settings the store relies
// on: WAL, durable commits, a busy timeout, and checkpoints every ~40 MB.
// A scratch database differs only in skipping the fsync.
func TestOpen_SQLitePragmas(t *testing.T) {
	ctx := context.Background()
	for _, scratch := range []bool{false, true} {
		s, err := Open(ctx, Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "t.db"), MaxOpenConns: 1, ConnMaxLifetime: time.Minute, Scratch: scratch}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		synchronous := "2" // FULL
		if scratch {
			synchronous = "0" // OFF
		}
		for pragma, want := range map[string]string{
			"journal_mode": "wal", "synchronous": synchronous, "busy_timeout": "10000", "foreign_keys": "1",
			"wal_autocheckpoint": "10000", "journal_size_limit": "67108864",
		} {
			var got string
			if err := s.db.WithContext(ctx).Raw("PRAGMA " + pragma).Scan(&got).Error; err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("scratch %v: PRAGMA %s = %s, want %s", scratch, pragma, got, want)
			}
		}
	}
}
