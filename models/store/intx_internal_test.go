package store

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

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
	// Whether a COMMIT whose answer was lost was applied is unknown: it must
	// not read as a lock conflict, which callers run again at once.
	if errors.Is(err, ErrDeadlock) {
		t.Fatalf("err = %v matches ErrDeadlock", err)
	}
}

// Only a conflict the database settled by refusing the transaction is
// ErrDeadlock; every other transient fault is merely unavailable.
func TestTranslate_LockConflicts(t *testing.T) {
	for _, tc := range []struct {
		err            error
		deadlock, down bool
	}{
		{&gomysql.MySQLError{Number: 1213, Message: "Deadlock found"}, true, true},
		{&gomysql.MySQLError{Number: 1205, Message: "Lock wait timeout exceeded"}, true, true},
		{errors.New("database is locked (5) (SQLITE_BUSY)"), true, true},
		{&gomysql.MySQLError{Number: 1053, Message: "Server shutdown in progress"}, false, true},
		{&gomysql.MySQLError{Number: 2013, Message: "Lost connection"}, false, true},
		{gomysql.ErrInvalidConn, false, true},
		{&gomysql.MySQLError{Number: 1406, Message: "Data too long"}, false, false},
	} {
		err := translate("op", tc.err)
		if errors.Is(err, ErrDeadlock) != tc.deadlock || errors.Is(err, models.ErrUnavailable) != tc.down {
			t.Errorf("%v: ErrDeadlock %v, ErrUnavailable %v; want %v, %v", tc.err,
				errors.Is(err, ErrDeadlock), errors.Is(err, models.ErrUnavailable), tc.deadlock, tc.down)
		}
	}
}
