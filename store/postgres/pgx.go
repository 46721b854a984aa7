package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/actionvector/tasks/internal/sqldb"
)

// WithPgxTx returns a Store that runs every operation inside tx, the
// caller's pgx transaction, as WithTx does for a *sql.Tx: tasks are
// created atomically with the caller's own writes, and commit or roll back
// with tx. An error leaves tx unusable; roll it back. Errors are never
// marked transient, because only the caller can retry a whole
// transaction. The statements run on tx's connection with pgx's own API,
// not through database/sql. WithPgxTx panics if tx is nil.
func (s *Store) WithPgxTx(tx pgx.Tx) *Store {
	if tx == nil {
		panic("postgres: WithPgxTx: nil pgx.Tx")
	}
	c := *s
	c.db = s.db.WithTx(pgxQuerier{tx})
	return &c
}

// pgxRunner is what pgx's pool, pooled connections and transactions have
// in common.
type pgxRunner interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// pgxQuerier runs statements with pgx's own API.
type pgxQuerier struct{ q pgxRunner }

func (q pgxQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	tag, err := q.q.Exec(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(tag.RowsAffected()), nil
}

func (q pgxQuerier) QueryContext(ctx context.Context, query string, args ...any) (sqldb.Rows, error) {
	rows, err := q.q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgxRows{rows}, nil
}

func (q pgxQuerier) QueryRowContext(ctx context.Context, query string, args ...any) sqldb.Row {
	return q.q.QueryRow(ctx, query, args...)
}

// pgxPool is a pgx pool as the Pool of NewFromPool's Store: a transaction
// takes a connection of its own with Acquire.
type pgxPool struct {
	pgxQuerier
	pool *pgxpool.Pool
}

func newPgxPool(pool *pgxpool.Pool) pgxPool { return pgxPool{pgxQuerier{pool}, pool} }

type pgxConn struct {
	pgxQuerier
	c *pgxpool.Conn
}

// Release returns the connection to the pool, which destroys it if it is
// closed.
func (c pgxConn) Release(discard bool) {
	if discard {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = c.c.Conn().Close(ctx)
		cancel()
	}
	c.c.Release()
}

// Conn takes a connection of the pool for one transaction.
func (p pgxPool) Conn(ctx context.Context) (sqldb.Conn, error) {
	c, err := p.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return pgxConn{pgxQuerier{c}, c}, nil
}

// pgxRows are pgx.Rows read as database/sql's are: Close reports the
// query's error.
type pgxRows struct{ pgx.Rows }

func (r pgxRows) Close() error {
	r.Rows.Close()
	return r.Rows.Err()
}
