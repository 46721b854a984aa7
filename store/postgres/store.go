package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" database/sql driver

	"github.com/actionvector/tasks/internal/sqldb"
	"github.com/actionvector/tasks/store"
)

// Store is a TaskStore on PostgreSQL, with the methods every adapter offers
// besides the port. It is safe for concurrent use, except a Store bound to a
// caller's transaction with WithTx or WithPgxTx, which is as safe as that
// transaction.
type Store struct {
	db        sqldb.Handle
	now       func() time.Time
	chunkSize int
	names     names
	sql       statements
	withCitus bool    // WithCitus: Migrate requires Citus
	layout    *layout // shared with the Stores WithTx and WithPgxTx return
}

// Option configures a Store.
type Option func(*config)

type config struct {
	tasks, actionVector string
	now                 func() time.Time
	chunkSize           int
	maxConns            int
	citus               bool
}

// DefaultMaxConns is the most connections the pool Open makes holds, unless
// WithMaxConns says otherwise: well below PostgreSQL's default
// max_connections of 100, so several processes can share a server.
const DefaultMaxConns = 10

// WithTasksTable sets the tasks table, "table" or "schema.table" (default
// "tasks"). Its schema must exist. The indexes and the migrations table are
// named after it.
func WithTasksTable(name string) Option { return func(c *config) { c.tasks = name } }

// WithActionVectorTable sets the action-vector table, "table" or
// "schema.table" (default "action_vector"), usually the data platform's
// read-only mirror such as "gold_lakebase.action_vector". The store only
// reads it, and Migrate creates it only when it does not exist.
func WithActionVectorTable(name string) Option { return func(c *config) { c.actionVector = name } }

// WithClock sets the clock SetTaskStatus stamps updated_at with (default
// time.Now). CreateTasks uses the store.Service's clock instead.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithChunkSize sets the most candidates sent in one statement (default
// DefaultChunkSize). A larger batch takes several statements in one
// transaction, one after the other in the lock order, whole pairs each
// while a pair's candidates fit. What a statement holds in the client's
// memory (its parameters, encoded) and in the server's grows with its
// chunk; what a call holds beyond its request is bounded by one chunk's.
func WithChunkSize(n int) Option { return func(c *config) { c.chunkSize = n } }

// WithMaxConns sets the most connections of the pool Open makes (default
// DefaultMaxConns); calls beyond it wait for a free connection, as long as
// their context allows. New leaves the caller's pool as it is.
func WithMaxConns(n int) Option { return func(c *config) { c.maxConns = n } }

// WithCitus says the database is a Citus coordinator, and Migrate fails
// when it is not. Without it the store finds Citus itself: Migrate on a
// database with the citus extension and the first call on distributed
// tables take the distributed layout all the same.
//
// In the distributed layout each organization's rows live together on one
// worker and every statement of a call runs there alone. Migrate creates
// the tasks table with the primary key (organization_id, id), since Citus
// needs the distribution column in every unique index, and distributes it
// by organization_id, co-located with the action-vector table. It
// distributes the action-vector table too when it creates it; an existing
// one must already be distributed by organization_id, else Migrate says
// so. A call then takes two statements per chunk instead of one (an
// upsert, then a count), since Citus cannot run an INSERT in a CTE on a
// single worker.
func WithCitus() Option { return func(c *config) { c.citus = true } }

// DefaultChunkSize is the most candidates of one statement by default:
// twenty thousand pairs in all three domains. A call of a million pairs
// takes fifty statements, its heap bounded by its request and one chunk's
// parameters (about 20 MB encoded, with pgx's buffers).
const DefaultChunkSize = 60_000

// newStore applies opts and says which one is invalid.
func newStore(opts []Option) (*Store, config, error) {
	c := config{tasks: "tasks", actionVector: "action_vector", now: time.Now, chunkSize: DefaultChunkSize,
		maxConns: DefaultMaxConns}
	for _, opt := range opts {
		opt(&c)
	}
	switch {
	case c.now == nil:
		return nil, c, errors.New("postgres: WithClock: nil clock")
	case c.chunkSize < 1:
		return nil, c, fmt.Errorf("postgres: WithChunkSize: %d is below 1", c.chunkSize)
	case c.maxConns < 1:
		return nil, c, fmt.Errorf("postgres: WithMaxConns: %d is below 1", c.maxConns)
	}
	n, err := newNames(c.tasks, c.actionVector)
	if err != nil {
		return nil, c, err
	}
	sql, err := renderStatements(n)
	if err != nil {
		return nil, c, err
	}
	return &Store{now: c.now, chunkSize: c.chunkSize, names: n, sql: sql, withCitus: c.citus,
		layout: &layout{known: c.citus, citus: c.citus}}, c, nil
}

// CheckOptions returns the error Open would return for opts, the one New
// and NewFromPool would panic with, or nil when they are valid: for options
// read from people (flags, configuration) rather than written in code, to
// refuse them before any store is built.
func CheckOptions(opts ...Option) error {
	_, _, err := newStore(opts)
	return err
}

// Open connects to the PostgreSQL database named by dsn (a URL or key=value
// string, as pgx reads it), checks the connection and migrates. An invalid
// option is an error. Its pool holds at most DefaultMaxConns connections
// (WithMaxConns), and keeps them open between calls.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	s, c, err := newStore(opts)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	db.SetMaxOpenConns(c.maxConns)
	db.SetMaxIdleConns(c.maxConns)
	s.db = sqldb.Owned(db)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, wrapErr("connect", err)
	}
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// New returns a Store on a pool the caller owns (opened with the "pgx"
// driver of github.com/jackc/pgx/v5/stdlib); Close leaves it open. It does
// not migrate: call Migrate. New panics if db is nil or an option is
// invalid (a table name that is not a plain identifier, say): those are
// programming errors.
func New(db *sql.DB, opts ...Option) *Store {
	s, _, err := newStore(opts)
	if err != nil {
		panic(err)
	}
	s.db = sqldb.Borrowed("postgres: New", db)
	return s
}

// NewFromPool returns a Store on a pgx pool the caller owns and shares
// with the rest of its service: every operation takes a connection from
// pool for as long as it runs, and runs its statements with pgx's own API,
// not through database/sql, so the service's MaxConns bounds both. DB
// returns a database/sql view of pool. Close releases what the
// Store holds and leaves pool open. It does not migrate: call Migrate.
// NewFromPool panics if pool is nil or an option is invalid, as New does;
// WithMaxConns has no effect, the pool's own bound does.
func NewFromPool(pool *pgxpool.Pool, opts ...Option) *Store {
	if pool == nil {
		panic("postgres: NewFromPool: nil *pgxpool.Pool")
	}
	s, _, err := newStore(opts)
	if err != nil {
		panic(err)
	}
	// Statements run on pool with pgx's own API. The *sql.DB, for DB, is
	// the Store's own view of pool; closing it leaves pool open.
	s.db = sqldb.OwnedOn(stdlib.OpenDBFromPool(pool), newPgxPool(pool))
	return s
}

// DB returns the pool the Store runs on: the one Open made, the one given
// to New, or NewFromPool's database/sql view of the pgx pool. A Store bound
// to a transaction with WithTx or WithPgxTx returns the pool of its parent
// Store.
func (s *Store) DB() *sql.DB { return s.db.DB() }

// Close closes the pool if Open made it, and does nothing for a Store New
// made on the caller's pool, or one WithTx or WithPgxTx returned.
func (s *Store) Close() error { return s.db.Close() }

// WithTx returns a Store that runs every operation inside tx, the caller's
// transaction, so tasks are created atomically with the caller's own
// writes: they commit or roll back with tx. An error leaves tx unusable on
// PostgreSQL; roll it back. Errors are never marked transient, because only
// the caller can retry a whole transaction.
func (s *Store) WithTx(tx *sql.Tx) *Store {
	c := *s
	c.db = s.db.WithTx(sqldb.Std(tx))
	return &c
}

// inTx runs fn in a transaction: the caller's if the Store is bound to one,
// else one of its own, committed only once fn is done and ctx still live.
// A lone statement would commit on its own even when ctx ended while it
// ran; in a transaction, a cancellation drops the connection and the
// server rolls back.
func (s *Store) inTx(ctx context.Context, fn func(q sqldb.Querier) error) error {
	return s.db.InTx(ctx, sqldb.Dialect{Begin: "BEGIN", Wrap: s.wrapErr, CommitFailed: commitError}, fn)
}

// commitError tells a COMMIT that certainly failed, which wrapErr
// classifies as any other error, from one that may have committed, which
// says so (store.ErrOutcomeUnknown). Only the server's own refusal of
// the transaction proves a rollback: SQLSTATE class 40 (transaction
// rollback) and class 23 (a deferred constraint it broke). Anything else
// may follow a commit: a connection lost once COMMIT was written (which
// pgx may still call safe to retry), a server shutting down (57P01), and
// Citus' XX000 "could not commit transaction for shard ... on at least one
// active node", which a coordinator answers when it lost a worker that was
// committing.
func commitError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "40") || strings.HasPrefix(pgErr.Code, "23")) {
		return wrapErr("commit", err)
	}
	return store.MarkOutcomeUnknown(fmt.Errorf("postgres: commit: %w", err))
}

// wrapErr names the failed step and marks errors a retry may cure, unless
// the Store runs in the caller's transaction: only the caller can retry it.
func (s *Store) wrapErr(step string, err error) error {
	if err == nil {
		return nil
	}
	if s.db.InCallerTx() {
		return fmt.Errorf("postgres: %s: %w", step, err)
	}
	return wrapErr(step, err)
}

// wrapErr names the failed step and marks errors a retry may cure. Every
// write runs in a transaction whose COMMIT is classified apart
// (commitError), so a connection lost here was lost before anything could
// be committed.
func wrapErr(step string, err error) error {
	err = fmt.Errorf("postgres: %s: %w", step, err)
	if isTransient(err) {
		return store.MarkTransient(err)
	}
	return err
}

// SQLSTATEs the store tells apart.
const (
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
	tooManyConnections   = "53300"
	uniqueViolation      = "23505"
	duplicateTable       = "42P07"
	duplicateObject      = "42710"
)

// isTransient reports serialization failures, deadlocks, a server with no
// connection to spare, the server ending the session (it rolls the
// transaction back) and lost connections.
func isTransient(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == serializationFailure, pgErr.Code == deadlockDetected, pgErr.Code == tooManyConnections:
			return true
		case len(pgErr.Code) == 5 && pgErr.Code[:2] == "08": // connection exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03": // server shutting down or starting
			return true
		}
		return false
	}
	if pgconn.SafeToRetry(err) {
		return true // nothing reached the server
	}
	var netErr net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.As(err, &netErr)
}

func hasCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}
