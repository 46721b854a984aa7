package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/actionvector/tasks/taskcreate"
)

// Store is a TaskStore on SQLite, with the methods every adapter offers
// besides the port. It is safe for concurrent use.
type Store struct {
	db          *sql.DB
	ownsDB      bool // Close closes db only when Open made it
	now         func() time.Time
	busyTimeout time.Duration
	chunkSize   int
	err         error // an invalid option, returned by every method
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock SetTaskStatus stamps updated_at with (default
// time.Now). CreateTasks uses the taskcreate.Service's clock instead.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithBusyTimeout sets how long Open's connections wait for another process's
// write lock before failing with SQLITE_BUSY (default 5s). New leaves the
// caller's pool as it is.
func WithBusyTimeout(d time.Duration) Option { return func(s *Store) { s.busyTimeout = d } }

// WithChunkSize sets how many pairs are sent to SQLite in one statement
// (default 20,000). Larger batches take several statements in the same
// transaction.
func WithChunkSize(n int) Option { return func(s *Store) { s.chunkSize = n } }

// newStore applies opts. An invalid option does not fail here, since New
// returns no error: the Store keeps the error and every method returns it.
func newStore(db *sql.DB, opts []Option) *Store {
	s := &Store{db: db, now: time.Now, busyTimeout: 5 * time.Second, chunkSize: 20_000}
	for _, opt := range opts {
		opt(s)
	}
	switch {
	case registerErr != nil:
		s.err = registerErr
	case s.now == nil:
		s.err = errors.New("sqlite: WithClock: nil clock")
	case s.busyTimeout < 0:
		s.err = fmt.Errorf("sqlite: WithBusyTimeout: %v is negative", s.busyTimeout)
	case s.chunkSize < 1:
		s.err = fmt.Errorf("sqlite: WithChunkSize: %d is below 1", s.chunkSize)
	}
	return s
}

// Open opens the SQLite database named by dsn (a file path, a "file:" URI or
// ":memory:"), configures it and migrates it.
//
// The pool has a single connection: SQLite has one writer at a time, and a
// single connection means callers in this process queue in Go instead of
// meeting SQLITE_BUSY, and an in-memory database lives as long as the Store.
// Files use WAL, synchronous=NORMAL and a busy timeout for other processes;
// the connection keeps a 64 MiB page cache and maps up to 1 GiB of the file
// for reading, since a call reads action vectors all over the table.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	s := newStore(nil, opts)
	if s.err != nil {
		return nil, s.err
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	full := dsn + sep + fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"+
		"&_pragma=temp_store(MEMORY)&_pragma=cache_size(-65536)&_pragma=mmap_size(1073741824)",
		s.busyTimeout.Milliseconds())
	db, err := sql.Open("sqlite", full)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s.db, s.ownsDB = db, true
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// New returns a Store on a pool the caller owns and configures; Close leaves
// it open. It does not migrate: call Migrate. Every write transaction starts
// with BEGIN IMMEDIATE, so concurrent writers queue on SQLite's busy
// handler; give the pool a busy timeout (_pragma=busy_timeout(5000)), or a
// single connection as Open does. If an option is invalid, every method of
// the Store returns an error saying so.
func New(db *sql.DB, opts ...Option) *Store {
	return newStore(db, opts)
}

// DB returns the pool the Store runs on.
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the pool if Open made it.
func (s *Store) Close() error {
	if !s.ownsDB {
		return nil
	}
	return s.db.Close()
}

// querier is what the statements of one transaction run on.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inWriteTx runs fn in a transaction that takes SQLite's write lock at its
// start (BEGIN IMMEDIATE), so two writers never both read and then fail to
// upgrade. It commits only if fn and ctx are both fine, and rolls back
// otherwise.
//
// COMMIT runs on a context that is never cancelled: once it is sent, a
// cancelled context would make the driver report a failure for a commit that
// happened. A failed COMMIT leaves nothing committed (SQLite either keeps the
// transaction open, which the deferred rollback ends, or rolls it back), so
// every error inWriteTx returns means nothing was written.
func (s *Store) inWriteTx(ctx context.Context, fn func(q querier) error) (err error) {
	if s.err != nil {
		return s.err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return wrapErr("connect", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return wrapErr("begin", err)
	}
	defer func() {
		if err != nil {
			rollback(conn)
		}
	}()
	if err := fn(conn); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		return wrapErr("commit", err)
	}
	return nil
}

// rollback ends a failed transaction even when the caller's context is done.
// SQLite has already rolled back a transaction whose statement was
// interrupted; a connection that cannot roll back for another reason is
// discarded rather than returned to the pool with a transaction open.
func rollback(conn *sql.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := conn.ExecContext(ctx, "ROLLBACK")
	if err != nil && !strings.Contains(err.Error(), "no transaction is active") {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// wrapErr names the failed step and marks errors a retry may cure.
func wrapErr(step string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("sqlite: %s: %w", step, err)
	if isTransient(err) {
		return taskcreate.MarkTransient(err)
	}
	return err
}

func isTransient(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}

func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}
