package store_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"github.com/treue/treue/models"
	"github.com/treue/treue/models/store"
)

// TestIsTransient: one classifier for a database that cannot be used right
// now, for the store's statements and for a caller's own BEGIN or COMMIT.
func TestIsTransient(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"dial refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}, true},
		{"DNS", fmt.Errorf("begin: %w", &net.DNSError{Err: "no such host", Name: "db"}), true},
		{"bad conn", fmt.Errorf("commit: %w", driver.ErrBadConn), true},
		{"invalid conn", gomysql.ErrInvalidConn, true},
		{"conn done", sql.ErrConnDone, true},
		{"deadline", context.DeadlineExceeded, true},
		{"server gone", &gomysql.MySQLError{Number: 2006, Message: "MySQL server has gone away"}, true},
		{"too many connections", &gomysql.MySQLError{Number: 1040}, true},
		{"broken pipe text", errors.New("write tcp: broken pipe"), true},
		{"duplicate key", &gomysql.MySQLError{Number: 1062}, false},
		{"not found", gorm.ErrRecordNotFound, false},
		{"unavailable sentinel alone", models.ErrUnavailable, false},
		{"other", errors.New("syntax error"), false},
	} {
		if got := store.IsTransient(tc.err); got != tc.want {
			t.Errorf("%s: IsTransient(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
