package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"

	"github.com/jackc/pgx/v5"

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

// pgxQuerier runs statements on a pgx transaction.
type pgxQuerier struct{ tx pgx.Tx }

func (q pgxQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	tag, err := q.tx.Exec(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(tag.RowsAffected()), nil
}

func (q pgxQuerier) QueryContext(ctx context.Context, query string, args ...any) (sqldb.Rows, error) {
	rows, err := q.tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgxRows{rows}, nil
}

func (q pgxQuerier) QueryRowContext(ctx context.Context, query string, args ...any) sqldb.Row {
	return q.tx.QueryRow(ctx, query, args...)
}

// pgxRows are pgx.Rows read as database/sql's are: Close reports the
// query's error.
type pgxRows struct{ pgx.Rows }

func (r pgxRows) Close() error {
	r.Rows.Close()
	return r.Rows.Err()
}
