package store

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/treue/treue/models"
)

// TestInTx_CommitLost: a transaction whose connection dies before COMMIT
// reports models.ErrUnavailable (the delivery is answered 503 and retried),
// not an unclassified error.
func TestInTx_CommitLost(t *testing.T) {
	dsn := os.Getenv("TREUE_TEST_MYSQL_DSN")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TREUE_TEST_MYSQL_DSN is not set: CI must run the MySQL variant")
		}
		t.Skip("TREUE_TEST_MYSQL_DSN is not set")
	}
	ctx := context.Background()
	s, err := Open(ctx, Config{Driver: "mysql", DSN: dsn, MaxOpenConns: 4, MaxIdleConns: 2, ConnMaxLifetime: time.Minute}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.InTx(ctx, func(tx *Store) error {
		var id int64
		if err := tx.db.Raw("SELECT CONNECTION_ID()").Scan(&id).Error; err != nil {
			return err
		}
		// Another connection of the pool kills this one.
		return s.db.Exec("KILL ?", id).Error
	})
	if err == nil || !errors.Is(err, models.ErrUnavailable) {
		t.Fatalf("err = %v, want models.ErrUnavailable", err)
	}
}
