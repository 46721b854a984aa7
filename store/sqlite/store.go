package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/actionvector/tasks/internal/sqldb"
	"github.com/actionvector/tasks/store"
)

// Store is a TaskStore on SQLite, with the methods every adapter offers
// besides the port. It is safe for concurrent use, except a Store bound to
// a caller's transaction with WithTx, which is as safe as that transaction.
type Store struct {
	db          sqldb.Handle
	now         func() time.Time
	busyTimeout time.Duration
	chunkSize   int
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock SetTaskStatus stamps updated_at with (default
// time.Now). CreateTasks uses the store.Service's clock instead.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithBusyTimeout sets how long Open's connections wait for another process's
// write lock before failing with SQLITE_BUSY (default 5s). New leaves the
// caller's pool as it is.
func WithBusyTimeout(d time.Duration) Option { return func(s *Store) { s.busyTimeout = d } }

// WithChunkSize sets how many pairs are sent to SQLite in one statement
// (default 20,000). Larger batches take several statements in the same
// transaction.
func WithChunkSize(n int) Option { return func(s *Store) { s.chunkSize = n } }

// newStore applies opts and says which one is invalid.
func newStore(opts []Option) (*Store, error) {
	s := &Store{now: time.Now, busyTimeout: 5 * time.Second, chunkSize: 20_000}
	for _, opt := range opts {
		opt(s)
	}
	switch {
	case s.now == nil:
		return nil, errors.New("sqlite: WithClock: nil clock")
	case s.busyTimeout < 0:
		return nil, fmt.Errorf("sqlite: WithBusyTimeout: %v is negative", s.busyTimeout)
	case s.chunkSize < 1:
		return nil, fmt.Errorf("sqlite: WithChunkSize: %d is below 1", s.chunkSize)
	}
	return s, nil
}

// Open opens the SQLite database named by dsn (a file path, a "file:" URI or
// ":memory:"), configures it and migrates it. An invalid option is an error.
//
// The pool has a single connection: SQLite has one writer at a time, and a
// single connection means callers in this process queue in Go instead of
// meeting SQLITE_BUSY, and an in-memory database lives as long as the Store.
// Files use WAL, synchronous=NORMAL and a busy timeout for other processes;
// the connection keeps a 64 MiB page cache and maps up to 1 GiB of the file
// for reading, since a call reads action vectors all over the table.
// Temporary tables, which hold a call's candidates, stay in memory: with
// the mapped file, a call over 1,000,000 pairs in three domains raised the
// process's resident memory by 1.5 to 2 GiB (see BENCHMARKS.md).
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	s, err := newStore(opts)
	if err != nil {
		return nil, err
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
	s.db = sqldb.Owned(db)
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
// single connection as Open does. New panics if db is nil or an option is
// invalid: those are programming errors.
func New(db *sql.DB, opts ...Option) *Store {
	s, err := newStore(opts)
	if err != nil {
		panic(err)
	}
	s.db = sqldb.Borrowed("sqlite: New", db)
	return s
}

// DB returns the pool the Store runs on: the one Open made, or the one
// given to New. A Store bound to a transaction with WithTx returns the
// pool of that transaction's parent Store.
func (s *Store) DB() *sql.DB { return s.db.DB() }

// Close closes the pool if Open made it, and does nothing for a Store New
// made on the caller's pool, or one WithTx returned.
func (s *Store) Close() error { return s.db.Close() }

// WithTx returns a Store that runs every operation inside tx, the caller's
// transaction, so tasks are created atomically with the caller's own
// writes: they commit or roll back with tx. Errors are never marked
// transient, because only the caller can retry a whole transaction. The
// transaction writes, so begin it where it cannot meet another writer
// halfway: on Open's single connection, or with BEGIN IMMEDIATE semantics.
func (s *Store) WithTx(tx *sql.Tx) *Store {
	c := *s
	c.db = s.db.WithTx(sqldb.Std(tx))
	return &c
}

// inWriteTx runs fn in a transaction that takes SQLite's write lock at its
// start (BEGIN IMMEDIATE), so two writers never both read and then fail to
// upgrade, or in the caller's transaction. A failed COMMIT leaves nothing
// committed: SQLite either keeps the transaction open, which the rollback
// ends, or rolls it back.
func (s *Store) inWriteTx(ctx context.Context, fn func(q sqldb.Querier) error) error {
	return s.db.InTx(ctx, sqldb.Dialect{
		Begin:        "BEGIN IMMEDIATE",
		Wrap:         s.wrapErr,
		CommitFailed: func(err error) error { return s.wrapErr("commit", err) },
		// An interrupted statement has already rolled the transaction back.
		RollbackHarmless: func(err error) bool { return strings.Contains(err.Error(), "no transaction is active") },
	}, fn)
}

// wrapErr names the failed step and marks errors a retry may cure, unless
// the Store runs in the caller's transaction.
func (s *Store) wrapErr(step string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("sqlite: %s: %w", step, err)
	if !s.db.InCallerTx() && isTransient(err) {
		return store.MarkTransient(err)
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
