// Package sqldb holds what the SQL adapters share: the database a Store runs
// on (a pool it may own, or the caller's transaction), the querier its
// statements take, and the transaction every write runs in.
package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/actionvector/tasks/store"
)

// Querier is what statements run on: a pool, a connection or a
// transaction, of database/sql (Std) or of a driver's own API.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) Row
}

// Row is a row to read: one of Rows, or the only one QueryRowContext
// asks for, whose error waits for Scan.
type Row interface {
	Scan(dest ...any) error
}

// Rows is the result of a query, read row by row as *sql.Rows is.
type Rows interface {
	Row
	Next() bool
	Err() error
	Close() error
}

// stdQuerier is what database/sql's pool, connections and transactions
// have in common.
type stdQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Std returns q, a *sql.DB, *sql.Conn or *sql.Tx, as a Querier.
func Std(q stdQuerier) Querier { return std{q} }

type std struct{ q stdQuerier }

func (s std) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.q.ExecContext(ctx, query, args...)
}

func (s std) QueryContext(ctx context.Context, query string, args ...any) (Rows, error) {
	rows, err := s.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (s std) QueryRowContext(ctx context.Context, query string, args ...any) Row {
	return s.q.QueryRowContext(ctx, query, args...)
}

// Dialect is how an adapter's transactions begin, and how it names and
// classifies their errors.
type Dialect struct {
	Begin string // the statement that opens a transaction, such as "BEGIN IMMEDIATE"
	// Wrap names the failed step of a transaction and marks errors a retry may cure.
	Wrap func(step string, err error) error
	// CommitFailed wraps the error of a COMMIT, saying whether anything may
	// have been committed.
	CommitFailed func(err error) error
	// RollbackHarmless reports a ROLLBACK error that leaves the connection
	// usable, such as finding the transaction already rolled back; any other
	// discards the connection. Nil: none is harmless.
	RollbackHarmless func(err error) bool
}

// Pool is where a Store takes the connection of each transaction of its
// own, and runs the statements that need none.
type Pool interface {
	Querier
	Conn(ctx context.Context) (Conn, error)
}

// Conn is a connection of a Pool, held for one transaction.
type Conn interface {
	Querier
	// Release returns the connection to its pool or, with discard,
	// closes it: one whose transaction could not be ended must not be
	// reused.
	Release(discard bool)
}

// StdPool returns db as a Pool.
func StdPool(db *sql.DB) Pool { return stdPool{std{db}, db} }

type stdPool struct {
	std
	db *sql.DB
}

func (p stdPool) Conn(ctx context.Context) (Conn, error) {
	c, err := p.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return stdConn{std{c}, c}, nil
}

type stdConn struct {
	std
	c *sql.Conn
}

func (c stdConn) Release(discard bool) {
	if discard {
		_ = c.c.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = c.c.Close()
}

// Handle is where a Store's statements run: a pool, which Close closes only
// if the Store made it, or a caller's transaction.
type Handle struct {
	db   *sql.DB // the pool, or its database/sql view
	pool Pool    // where statements run when no caller's transaction is bound
	tx   Querier // the caller's transaction, if any
	owns bool
}

// Owned returns a Handle on a pool the Store made, which Close closes.
func Owned(db *sql.DB) Handle { return OwnedOn(db, StdPool(db)) }

// OwnedOn returns a Handle whose statements run on pool, a driver's own
// pool, with db its database/sql view, which the Store made and Close
// closes.
func OwnedOn(db *sql.DB, pool Pool) Handle { return Handle{db: db, pool: pool, owns: true} }

// Borrowed returns a Handle on a pool the caller owns and closes. It
// panics, naming who asked, if pool is nil: a programming error.
func Borrowed(who string, db *sql.DB) Handle {
	if db == nil {
		panic(who + ": nil *sql.DB")
	}
	return Handle{db: db, pool: StdPool(db)}
}

// WithTx returns h bound to tx, the caller's transaction: of database/sql
// (Std), or of a driver's own API.
func (h Handle) WithTx(tx Querier) Handle { return Handle{db: h.db, pool: h.pool, tx: tx} }

// DB returns the pool the Store runs on, or its database/sql view.
func (h Handle) DB() *sql.DB { return h.db }

// Close closes the pool, or its view, if the Store made it.
func (h Handle) Close() error {
	if !h.owns {
		return nil
	}
	return h.db.Close()
}

// InCallerTx reports whether h runs in the caller's transaction, which
// only the caller can commit, roll back or retry.
func (h Handle) InCallerTx() bool { return h.tx != nil }

// Querier returns where a statement that needs no transaction of its own
// runs: the caller's transaction, or the pool.
func (h Handle) Querier() Querier {
	if h.tx != nil {
		return h.tx
	}
	return h.pool
}

// InTx runs fn in a transaction: the caller's if h is bound to one, else one
// of its own on a connection of the pool, committed only if fn succeeds and
// ctx is still live.
//
// The connection is taken, and the transaction begun, on ctx; every
// statement of fn runs on ctx, so a cancellation interrupts the work and
// the transaction rolls back. COMMIT runs on a context that is never
// cancelled: once sent it runs to its end, because a cancellation arriving
// during it would report a failure for a commit that happened. So every
// error InTx returns means nothing was written, except one CommitFailed
// says may have been.
func (h Handle) InTx(ctx context.Context, dialect Dialect, fn func(q Querier) error) (err error) {
	if h.tx != nil {
		return fn(h.tx)
	}
	conn, err := h.pool.Conn(ctx)
	if err != nil {
		return dialect.Wrap("connect", err)
	}
	usable := true
	defer func() { conn.Release(!usable) }()
	if _, err := conn.ExecContext(ctx, dialect.Begin); err != nil {
		// A driver may report the cancellation of a BEGIN that did open
		// the transaction (modernc.org/sqlite reports ctx.Err() whenever
		// ctx ended during the statement): end it, or the connection goes
		// back to the pool inside it.
		usable = rollback(conn, dialect.RollbackHarmless)
		return dialect.Wrap("begin", err)
	}
	defer func() {
		if err != nil {
			usable = rollback(conn, dialect.RollbackHarmless)
		}
	}()
	if err := fn(conn); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		return dialect.CommitFailed(err)
	}
	return nil
}

// rollback ends a failed transaction, or one a failed BEGIN may have
// opened, even when the caller's context is done, and reports whether the
// connection is usable: one that cannot roll back is discarded rather than
// returned to the pool with a transaction open.
func rollback(conn Conn, harmless func(error) bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := conn.ExecContext(ctx, "ROLLBACK")
	return err == nil || (harmless != nil && harmless(err))
}

// Collect runs query on q and returns what scan makes of each row.
func Collect[T any](ctx context.Context, q Querier, scan func(Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Exec runs a statement that writes on q and returns how many rows it
// changed.
func Exec(ctx context.Context, q Querier, query string, args ...any) (int, error) {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Retry runs op until it succeeds or fails for good: at most 5 times while
// its error is transient (store.ErrTransient) and ctx is live, after a
// jittered backoff doubling from 20ms. It serves the store methods a
// service does not retry, such as SetTaskStatus, which a deadlock or a busy
// database may fail once.
func Retry(ctx context.Context, op func() error) error {
	const attempts = 5
	backoff := 20 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || attempt >= attempts || !errors.Is(err, store.ErrTransient) || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(rand.N(backoff + 1))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		backoff *= 2
	}
}
