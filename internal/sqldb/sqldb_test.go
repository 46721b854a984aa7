package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/internal/sqldb"
)

var dialect = sqldb.Dialect{
	Begin:            "BEGIN IMMEDIATE",
	Wrap:             func(step string, err error) error { return fmt.Errorf("%s: %w", step, err) },
	CommitFailed:     func(err error) error { return fmt.Errorf("commit: %w", err) },
	RollbackHarmless: func(err error) bool { return err.Error() == "no transaction is active" },
}

func newMock(t *testing.T) (sqldb.Handle, sqlmock.Sqlmock) {
	t.Helper()
	db, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(sqlmock.QueryMatcherEqual))
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() {
		assert.NoError(t, mock.ExpectationsWereMet(), "statements the test expected but InTx did not issue")
		db.Close()
	})
	return sqldb.Owned(db), mock
}

// A driver may report a cancellation for a BEGIN that did open the
// transaction, as modernc.org/sqlite does whenever the context ends during
// the statement: InTx rolls it back, so the pool's connection is not left
// inside it for the next call to find.
func TestFailedBeginIsRolledBack(t *testing.T) {
	for _, rollbackErr := range []error{nil, errors.New("no transaction is active")} {
		t.Run(fmt.Sprint(rollbackErr), func(t *testing.T) {
			h, mock := newMock(t)
			mock.ExpectExec("BEGIN IMMEDIATE").WillReturnError(context.Canceled)
			rollback := mock.ExpectExec("ROLLBACK")
			if rollbackErr != nil {
				rollback.WillReturnError(rollbackErr)
			} else {
				rollback.WillReturnResult(sqlmock.NewResult(0, 0))
			}
			mock.ExpectExec("BEGIN IMMEDIATE").WillReturnResult(sqlmock.NewResult(0, 0))
			mock.ExpectExec("COMMIT").WillReturnResult(sqlmock.NewResult(0, 0))

			ran := false
			err := h.InTx(t.Context(), dialect, func(sqldb.Querier) error { ran = true; return nil })
			require.ErrorIs(t, err, context.Canceled)
			assert.ErrorContains(t, err, "begin: ")
			assert.False(t, ran, "the work ran after a failed BEGIN")
			err = h.InTx(t.Context(), dialect, func(sqldb.Querier) error { return nil })
			require.NoError(t, err, "the next transaction on the pool")
		})
	}
}

func TestTransactionOutcomes(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name   string
		work   func(cancel context.CancelFunc) error // cancel ends the call's context
		expect func(sqlmock.Sqlmock)
		want   error // nil: success
	}{
		{"the work succeeds", func(context.CancelFunc) error { return nil }, func(mock sqlmock.Sqlmock) {
			mock.ExpectExec("BEGIN IMMEDIATE").WillReturnResult(sqlmock.NewResult(0, 0))
			mock.ExpectExec("COMMIT").WillReturnResult(sqlmock.NewResult(0, 0))
		}, nil},
		{"the work fails", func(context.CancelFunc) error { return boom }, func(mock sqlmock.Sqlmock) {
			mock.ExpectExec("BEGIN IMMEDIATE").WillReturnResult(sqlmock.NewResult(0, 0))
			mock.ExpectExec("ROLLBACK").WillReturnResult(sqlmock.NewResult(0, 0))
		}, boom},
		{"the context ends during the work", func(cancel context.CancelFunc) error { cancel(); return nil }, func(mock sqlmock.Sqlmock) {
			mock.ExpectExec("BEGIN IMMEDIATE").WillReturnResult(sqlmock.NewResult(0, 0))
			mock.ExpectExec("ROLLBACK").WillReturnResult(sqlmock.NewResult(0, 0))
		}, context.Canceled},
		{"the commit fails", func(context.CancelFunc) error { return nil }, func(mock sqlmock.Sqlmock) {
			mock.ExpectExec("BEGIN IMMEDIATE").WillReturnResult(sqlmock.NewResult(0, 0))
			mock.ExpectExec("COMMIT").WillReturnError(boom)
			mock.ExpectExec("ROLLBACK").WillReturnResult(sqlmock.NewResult(0, 0))
		}, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, mock := newMock(t)
			tt.expect(mock)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			err := h.InTx(ctx, dialect, func(sqldb.Querier) error { return tt.work(cancel) })
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
		})
	}
}
