package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
)

//go:embed migrations
var migrationFS embed.FS

// Migration is one versioned SQL file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations for driver, in order.
func Migrations(driver string) ([]Migration, error) {
	dir := path.Join("migrations", driver)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("store: migrations for %s: %w", driver, err)
	}
	var ms []Migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("store: migration %s: name must be NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	return ms, nil
}

// LatestVersion is the version the embedded migrations reach.
func (s *Store) LatestVersion() (int, error) {
	ms, err := Migrations(s.driver)
	if err != nil || len(ms) == 0 {
		return 0, err
	}
	return ms[len(ms)-1].Version, nil
}

// SchemaVersion is the highest migration applied, 0 on an empty database.
//
// It asks the table itself rather than information_schema: through vtgate
// with no keyspace selected (deploy/vitess) the session has no current
// database to look the table up in, and /readyz asks on every probe.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v *int
	if err := s.db.WithContext(ctx).Raw("SELECT MAX(version) FROM schema_migrations").Scan(&v).Error; err != nil {
		if noSuchTable(err) {
			return 0, nil
		}
		return 0, translate("schema version", err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// noSuchTable reports the error of a query on a table that does not exist:
// MySQL's 1146, SQLite's "no such table".
func noSuchTable(err error) bool {
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1146
	}
	return strings.Contains(err.Error(), "no such table")
}

// CheckSchema returns an error naming the command to run when the schema is
// behind (or ahead of) this binary.
func (s *Store) CheckSchema(ctx context.Context) error {
	have, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	want, err := s.LatestVersion()
	if err != nil {
		return err
	}
	switch {
	case have < want:
		return fmt.Errorf("store: database schema is at version %d, this binary needs %d: run `treue migrate` (or set database.auto_migrate: true)", have, want)
	case have > want:
		return fmt.Errorf("store: database schema is at version %d, newer than this binary knows (%d): upgrade treue", have, want)
	}
	return nil
}

// Migrate applies every migration not yet recorded, in order, each once, and
// returns the version reached. On MySQL a named lock keeps two replicas from
// migrating at once.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	return s.migrate(ctx, math.MaxInt)
}

// migrate applies the migrations up to version upTo.
func (s *Store) migrate(ctx context.Context, upTo int) (int, error) {
	ms, err := Migrations(s.driver)
	if err != nil {
		return 0, err
	}
	db := s.db.WithContext(ctx)
	if s.driver == "mysql" {
		// GET_LOCK belongs to a session, so pin one connection for the whole run.
		conn, err := s.sqlConn(ctx)
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		var got int
		s.record(ctx, "SELECT GET_LOCK('treue_migrate', 60)")
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('treue_migrate', 60)").Scan(&got); err != nil || got != 1 {
			return 0, fmt.Errorf("store: migrate: could not take the migration lock (another treue migrating?): %v", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK('treue_migrate')")
	}
	create := `CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at DATETIME(6) NOT NULL)`
	if s.driver == "sqlite" {
		create = `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at DATETIME NOT NULL)`
	}
	if err := db.Exec(create).Error; err != nil {
		return 0, translate("migrate: schema table", err)
	}
	have, err := s.SchemaVersion(ctx)
	if err != nil {
		return 0, err
	}
	for _, m := range ms {
		if m.Version <= have || m.Version > upTo {
			continue
		}
		// MySQL commits DDL implicitly, so a transaction would not make a
		// migration atomic there; each file is written to be safe to re-run
		// up to its first statement instead.
		err := db.Transaction(func(tx *gorm.DB) error {
			// Another process may have applied it since we looked (SQLite has no
			// named lock; its immediate transaction serializes this re-check).
			var cur *int
			if err := tx.Raw("SELECT MAX(version) FROM schema_migrations").Scan(&cur).Error; err != nil {
				return err
			}
			if cur != nil && *cur >= m.Version {
				return nil
			}
			for _, stmt := range splitStatements(m.SQL) {
				if err := tx.Exec(stmt).Error; err != nil {
					return fmt.Errorf("%s: %w", firstWords(stmt), err)
				}
			}
			if fill := backfill(m.Version); fill != nil {
				if err := fill(ctx, tx); err != nil {
					return fmt.Errorf("backfill: %w", err)
				}
			}
			return tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", m.Version, m.Name, time.Now().UTC()).Error
		})
		if err != nil {
			return have, fmt.Errorf("store: migration %s: %w", m.Name, err)
		}
		have = m.Version
	}
	return have, nil
}

// splitStatements splits a migration file at semicolons that end a line.
// Migrations contain no procedures, so this is enough.
func splitStatements(sqlText string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(sqlText, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

func (s *Store) sqlConn(ctx context.Context) (*sql.Conn, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, translate("connect", err)
	}
	return conn, nil
}

// TryLock takes a named lock shared by every replica on MySQL, without
// waiting; ok is false when another process holds it. On SQLite (one
// process) it always succeeds. Call release when done.
func (s *Store) TryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	if s.driver != "mysql" {
		return func() {}, true, nil
	}
	conn, err := s.sqlConn(ctx)
	if err != nil {
		return nil, false, err
	}
	var got *int
	s.record(ctx, "SELECT GET_LOCK(?, 0)", name)
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", name).Scan(&got); err != nil {
		conn.Close()
		return nil, false, translate("lock "+name, err)
	}
	if got == nil || *got != 1 {
		conn.Close()
		return nil, false, nil
	}
	return func() {
		conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK(?)", name)
		conn.Close()
	}, true, nil
}
