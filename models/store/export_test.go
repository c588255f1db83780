package store

import "context"

// MigrateTo applies the migrations up to version, for tests of a migration
// on the data an older schema holds.
func (s *Store) MigrateTo(ctx context.Context, version int) (int, error) {
	return s.migrate(ctx, version)
}

// Exec runs a statement, for tests that write rows an older schema holds.
func (s *Store) Exec(ctx context.Context, sql string, args ...any) error {
	return s.db.WithContext(ctx).Exec(sql, args...).Error
}
