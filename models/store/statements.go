package store

import (
	"context"

	"gorm.io/gorm"
)

// StatementRecorder is told each statement the store sends: its SQL with
// placeholders and the arguments bound to them. It runs on the caller's
// goroutine, after the statement, so a recorder can read the call stack.
type StatementRecorder interface {
	RecordStatement(ctx context.Context, sql string, vars []any)
}

// recordStatements installs rec after each of GORM's statement kinds. The
// raw and row callbacks carry Exec, Raw and Scan; the others the model API.
func recordStatements(db *gorm.DB, rec StatementRecorder) error {
	fn := func(tx *gorm.DB) {
		st := tx.Statement
		if st == nil || st.SQL.Len() == 0 {
			return
		}
		rec.RecordStatement(st.Context, st.SQL.String(), st.Vars)
	}
	cb := db.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:create").Register("treue:record_create", fn),
		cb.Query().After("gorm:query").Register("treue:record_query", fn),
		cb.Update().After("gorm:update").Register("treue:record_update", fn),
		cb.Delete().After("gorm:delete").Register("treue:record_delete", fn),
		cb.Row().After("gorm:row").Register("treue:record_row", fn),
		cb.Raw().After("gorm:raw").Register("treue:record_raw", fn),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// record tells the recorder, if any, of a statement sent on a pinned
// connection rather than through GORM (the named locks).
func (s *Store) record(ctx context.Context, sql string, vars ...any) {
	if s.rec != nil {
		s.rec.RecordStatement(ctx, sql, vars)
	}
}
