// Package store is the only package that touches the database. It owns the
// queries, the transactions and the migrations for MySQL and SQLite.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	gomysql "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/treue/treue/models"
)

// Config is what the store needs to open a database.
type Config struct {
	Driver          string // "mysql" or "sqlite"
	DSN             string
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	SlowQuery       time.Duration
	// Statements, when set, is told every statement the store sends (the
	// Vitess planner check captures them). Nil costs nothing: no callback
	// is installed.
	Statements StatementRecorder
}

// Sealer encrypts secrets before they are written and decrypts them on read.
type Sealer interface {
	Seal(plaintext []byte) (string, error)
	Open(sealed string) ([]byte, error)
}

// Store wraps a *gorm.DB bound either to the pool or to one transaction.
type Store struct {
	db     *gorm.DB
	driver string
	sealer Sealer
	// idStep is the server's auto_increment_increment (1 on SQLite).
	idStep int64
	// Now is the clock for timestamps written by the store; tests replace it.
	Now func() time.Time
	// rec is Config.Statements, for the statements sent past GORM.
	rec StatementRecorder
	// shop, when not 0, scopes the store to one shop (ForShop).
	shop int64
}

// Open connects to the database described by cfg. It does not migrate.
func Open(ctx context.Context, cfg Config, sealer Sealer, log *slog.Logger) (*Store, error) {
	var dial gorm.Dialector
	switch cfg.Driver {
	case "mysql":
		dsn, err := mysqlDSN(cfg.DSN)
		if err != nil {
			return nil, err
		}
		// Without RETURNING (which MariaDB offers) GORM reads RowsAffected from
		// the server, and ON DUPLICATE KEY then reports a duplicate as 0 rows.
		dial = mysql.New(mysql.Config{DSN: dsn, DisableWithReturning: true})
	case "sqlite":
		if err := createPrivate(sqliteFile(cfg.DSN), log); err != nil {
			return nil, err
		}
		dial = sqlite.Open(sqliteDSN(cfg.DSN))
	default:
		return nil, fmt.Errorf("store: unknown driver %q", cfg.Driver)
	}
	db, err := gorm.Open(dial, &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		Logger:                 newGormLogger(log, cfg.SlowQuery),
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", cfg.Driver, err)
	}
	if cfg.Statements != nil {
		if err := recordStatements(db, cfg.Statements); err != nil {
			return nil, fmt.Errorf("store: statement recorder: %w", err)
		}
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if cfg.Driver == "sqlite" {
		// SQLite has one writer at a time; one connection turns lock contention
		// (SQLITE_BUSY) into orderly queueing.
		sqlDB.SetMaxOpenConns(1)
	} else {
		sqlDB.SetMaxOpenConns(cfg.MaxOpenConns)
		sqlDB.SetMaxIdleConns(cfg.MaxIdleConns)
		// Below MySQL's wait_timeout, so the pool never hands out a connection
		// the server already closed.
		sqlDB.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	}
	s := &Store{db: db, driver: cfg.Driver, sealer: sealer, idStep: 1, Now: func() time.Time { return time.Now().UTC() }, rec: cfg.Statements}
	if err := s.Ping(ctx); err != nil {
		sqlDB.Close()
		return nil, err
	}
	if cfg.Driver == "mysql" {
		if err := db.WithContext(ctx).Raw("SELECT @@auto_increment_increment").Scan(&s.idStep).Error; err != nil {
			sqlDB.Close()
			return nil, translate("auto_increment_increment", err)
		}
	}
	return s, nil
}

// mysqlDSN forces the settings Treue relies on: times parsed as UTC and utf8mb4.
func mysqlDSN(dsn string) (string, error) {
	c, err := gomysql.ParseDSN(dsn)
	if err != nil {
		return "", fmt.Errorf("store: database.dsn: %w", err)
	}
	c.ParseTime = true
	c.Loc = time.UTC
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	if _, ok := c.Params["charset"]; !ok {
		c.Params["charset"] = "utf8mb4"
	}
	// Interpolating arguments client-side saves a round trip per query.
	c.InterpolateParams = true
	c.Params["time_zone"] = "'+00:00'"
	return c.FormatDSN(), nil
}

// sqliteDSN turns a file path into a DSN with WAL, a busy timeout and
// immediate write transactions.
func sqliteDSN(dsn string) string {
	if strings.Contains(dsn, "?") || strings.HasPrefix(dsn, "file:") {
		return dsn
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	// Checkpoint every ~40 MB of WAL instead of SQLite's 4 MB: a hot page
	// (an index the inbox and the journeys keep writing) is copied into the
	// database once per checkpoint however often it changed, and every
	// checkpoint costs the one connection an fsync; the WAL file is cut
	// back to 64 MB after one that ran long.
	q.Add("_pragma", "wal_autocheckpoint(10000)")
	q.Add("_pragma", "journal_size_limit(67108864)")
	q.Set("_txlock", "immediate")
	return dsn + "?" + q.Encode()
}

// sqliteFile is the file a SQLite DSN opens ("treue.db", "file:treue.db?…",
// "file:///var/lib/treue/treue.db"), or "" for an in-memory database.
func sqliteFile(dsn string) string {
	p, query, _ := strings.Cut(dsn, "?")
	if rest, ok := strings.CutPrefix(p, "file:"); ok {
		// A URI: file://[localhost]/path has an authority (SQLite refuses
		// any other), and the path may be percent-encoded.
		if after, ok := strings.CutPrefix(rest, "//"); ok {
			if auth, path, _ := strings.Cut(after, "/"); auth == "" || auth == "localhost" {
				rest = "/" + path
			}
		}
		if unescaped, err := url.PathUnescape(rest); err == nil {
			rest = unescaped
		}
		p = rest
		if q, err := url.ParseQuery(query); err == nil && q.Get("mode") == "memory" {
			return ""
		}
	}
	if p == "" || strings.HasPrefix(p, ":memory:") {
		return ""
	}
	return p
}

// createPrivate creates a SQLite database file that does not exist yet with
// mode 0600 before SQLite opens it: the database holds customers' personal
// data, and SQLite would create it 0644 (less the umask). SQLite gives the
// -wal and -shm files it creates the database file's mode, so they are
// private too. An existing file is left as it is, with a warning when others
// may read it: changing it could lock out a backup user the operator set up.
func createPrivate(path string, log *slog.Logger) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close() // an empty file is an empty database to SQLite
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("store: create the SQLite database %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 && log != nil {
		log.Warn("the SQLite database may be read by other users; it holds personal data",
			"file", path, "mode", fi.Mode().Perm().String(), "fix", "chmod 600 "+path+"*")
	}
	return nil
}

// Driver names the dialect: "mysql" or "sqlite".
func (s *Store) Driver() string { return s.driver }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w: %w", models.ErrUnavailable, err)
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// InTx runs fn in one transaction with a store bound to it. On MySQL it uses
// READ COMMITTED so that a row locked with FOR UPDATE is read as committed by
// whoever held it before.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	return s.inTx(ctx, true, fn)
}

// inTx is InTx; readCommitted false keeps the server's default isolation.
func (s *Store) inTx(ctx context.Context, readCommitted bool, fn func(tx *Store) error) error {
	var opts []*sql.TxOptions
	if s.driver == "mysql" && readCommitted {
		opts = append(opts, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	}
	ran, fnErr := false, error(nil)
	err := s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		tx := *s
		tx.db = db
		ran = true
		fnErr = fn(&tx)
		return fnErr
	}, opts...)
	if err != nil && (!ran || fnErr == nil) {
		// BEGIN or COMMIT failed: classify it like any statement's error, so
		// that a lost connection reads as unavailable (503, retry).
		return translate("transaction", err)
	}
	return err
}

// translate maps driver errors onto model sentinels.
func translate(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("store: %s: %w", op, models.ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("store: %s: %w", op, models.ErrDuplicate)
	case isLockConflict(err):
		return fmt.Errorf("store: %s: %w: %w", op, ErrDeadlock, err)
	case IsTransient(err):
		return fmt.Errorf("store: %s: %w: %w", op, models.ErrUnavailable, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// ErrDeadlock marks a lock conflict that the database settled by refusing
// this transaction: InnoDB rolled it back to break a deadlock, a lock wait
// timed out, or the SQLite file was busy. Nothing of it was written, so
// running it again at once is the remedy. It matches models.ErrUnavailable.
//
// A lost connection is not one: a COMMIT whose answer was lost may have
// been applied, and only the sender's retry can find out.
var ErrDeadlock = fmt.Errorf("deadlock: %w", models.ErrUnavailable)

func isLockConflict(err error) bool {
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205
	}
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY")
}

// IsTransient reports faults that go away by themselves: a lost or refused
// connection, a server shutting down or out of connections. The store marks
// a statement's such error models.ErrUnavailable; callers that see a
// driver's error unmarked (a failed BEGIN or COMMIT of their own) classify
// it with this.
func IsTransient(err error) bool {
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1040, 1053, 2006, 2013:
			return true
		}
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, gomysql.ErrInvalidConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"connection refused", "broken pipe", "bad connection", "i/o timeout", "connection reset"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// byPrimary is the index hint that makes a locking read of customers by id
// go through the primary key on MySQL. Scoped to a shop, the read names
// shop_id too, and InnoDB would rather scan ix_customers_shop_id from the
// lowest id to the highest, locking (and waiting for) the customers of
// other batches in between: four processors of one shop then deadlocked
// every few batches.
func (s *Store) byPrimary() string {
	if s.driver != "mysql" {
		return ""
	}
	return " FORCE INDEX (PRIMARY)"
}

// forUpdate is the row-lock suffix for the dialect; SQLite's immediate
// transactions already hold the write lock.
func (s *Store) forUpdate(skipLocked bool) string {
	if s.driver != "mysql" {
		return ""
	}
	if skipLocked {
		return " FOR UPDATE SKIP LOCKED"
	}
	return " FOR UPDATE"
}

// gormLogger sends slow queries and errors to slog, never the SQL arguments
// (they carry customer data).
type gormLogger struct {
	log  *slog.Logger
	slow time.Duration
}

func newGormLogger(log *slog.Logger, slow time.Duration) logger.Interface {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &gormLogger{log: log, slow: slow}
}

func (l *gormLogger) LogMode(logger.LogLevel) logger.Interface { return l }
func (l *gormLogger) Info(ctx context.Context, msg string, args ...any) {
	l.log.DebugContext(ctx, "gorm", "msg", fmt.Sprintf(msg, args...))
}
func (l *gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.log.WarnContext(ctx, "gorm", "msg", fmt.Sprintf(msg, args...))
}
func (l *gormLogger) Error(ctx context.Context, msg string, args ...any) {
	l.log.ErrorContext(ctx, "gorm", "msg", fmt.Sprintf(msg, args...))
}
func (l *gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	if l.slow > 0 && elapsed > l.slow {
		sqlText, rows := fc()
		l.log.WarnContext(ctx, "slow query", "duration_ms", elapsed.Milliseconds(), "rows", rows, "sql", firstWords(sqlText))
	}
}

// firstWords keeps the statement's shape (verb and table) but not its values.
func firstWords(q string) string {
	if i := strings.IndexAny(q, "('\""); i > 0 {
		q = q[:i]
	}
	if len(q) > 80 {
		q = q[:80]
	}
	return q
}

// Savepoint marks a point in the current transaction to roll back to, so one
// bad delivery in a batch does not undo the others.
func (s *Store) Savepoint(name string) error {
	return translate("savepoint", s.db.SavePoint(name).Error)
}

// RollbackTo undoes the transaction's work since the savepoint.
func (s *Store) RollbackTo(name string) error {
	return translate("rollback to savepoint", s.db.RollbackTo(name).Error)
}
