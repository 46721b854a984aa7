package postgres_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/store/postgres"
	"github.com/actionvector/tasks/taskcreate"
)

// These tests make each statement the adapter issues fail, through
// go-sqlmock, and check what comes back and what is rolled back. They need
// no server.

// passThrough hands pgx-typed arguments ([]string, [][16]byte) to the mock
// unchanged; database/sql's default converter rejects slices.
type passThrough struct{}

func (passThrough) ConvertValue(v any) (driver.Value, error) { return v, nil }

func newMock(t *testing.T) (*sql.DB, sqlmock.Sqlmock) {
	t.Helper()
	db, mock, err := sqlmock.New(sqlmock.ValueConverterOption(passThrough{}))
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, mock.ExpectationsWereMet(), "statements the test expected but the adapter did not issue")
		db.Close()
	})
	return db, mock
}

// Regexps of the statements, enough to tell them apart.
const (
	materializeSQL  = `WITH latest AS .* INSERT INTO "tasks" AS t .* ON CONFLICT`
	putVectorsSQL   = `INSERT INTO "action_vector" AS a`
	listTasksSQL    = `SELECT id, domain, shop_id, variant_id, status`
	setStatusSQL    = `UPDATE "tasks"\s+SET status`
	regclassSQL     = `SELECT to_regclass`
	citusSQL        = `SELECT EXISTS \(SELECT FROM pg_extension WHERE extname = 'citus'\)`
	beginSQL        = `^BEGIN$`
	commitSQL       = `^COMMIT$`
	rollbackSQL     = `^ROLLBACK$`
	migrationsDDL   = `CREATE TABLE IF NOT EXISTS "tasks_migrations"`
	migrationLock   = `INSERT INTO "tasks_migrations" \(version, name\) VALUES \(0, 'lock'\)`
	outcomeColumns  = "unmatched,suppressed,skipped,eligible,written,created"
	twoPairsRequest = 2
)

func request() taskcreate.Request {
	return taskcreate.Request{
		OrganizationID: "org", WorkflowRunID: "run", MinConfidence: 0.6,
		Domains:   []taskcreate.Domain{taskcreate.Restock, taskcreate.Markdown},
		Perimeter: []taskcreate.Pair{{VariantID: "v1", ShopID: "s1"}, {VariantID: "v2", ShopID: "s1"}},
	}
}

// expectPlainServer expects the question a Store asks once, at its first
// call or in Migrate: is this a Citus database? Here it is not.
func expectPlainServer(mock sqlmock.Sqlmock) {
	mock.ExpectQuery(citusSQL).WillReturnRows(sqlmock.NewRows([]string{"exists"}).AddRow(false))
}

// outcomeRow is the answer of one chunk: every candidate eligible and created.
func outcomeRow(candidates int) *sqlmock.Rows {
	return sqlmock.NewRows([]string{"unmatched", "suppressed", "skipped", "eligible", "written", "created", "retired", "open"}).
		AddRow(0, 0, 0, candidates, candidates, candidates, 0, 0)
}

func TestMaterializeIsOneStatementInATransactionWhenTheBatchFits(t *testing.T) {
	db, mock := newMock(t)
	mock.ExpectExec(beginSQL).WillReturnResult(sqlmock.NewResult(0, 0))
	expectPlainServer(mock)
	mock.ExpectQuery(materializeSQL).WillReturnRows(outcomeRow(4))
	mock.ExpectExec(commitSQL).WillReturnResult(sqlmock.NewResult(0, 0))

	res, err := taskcreate.New(postgres.New(db)).CreateTasks(t.Context(), request())
	require.NoError(t, err)
	assert.Equal(t, 4, res.Created)
}

func TestMaterializeFailuresComeBackWrappedAndRolledBack(t *testing.T) {
	boom := errors.New("connection reset by peer: SELECT secret")
	// With chunks of 2 candidates, the 4 candidates take two statements in
	// one transaction: begin, chunk, chunk, commit.
	tests := []struct {
		name   string
		expect func(mock sqlmock.Sqlmock)
	}{
		{"begin", func(mock sqlmock.Sqlmock) {
			mock.ExpectExec(beginSQL).WillReturnError(boom)
			// A failed BEGIN may still have opened the transaction.
			mock.ExpectExec(rollbackSQL).WillReturnResult(sqlmock.NewResult(0, 0))
		}},
		{"first chunk", func(mock sqlmock.Sqlmock) {
			mock.ExpectExec(beginSQL).WillReturnResult(sqlmock.NewResult(0, 0))
			expectPlainServer(mock)
			mock.ExpectQuery(materializeSQL).WillReturnError(boom)
			mock.ExpectExec(rollbackSQL).WillReturnResult(sqlmock.NewResult(0, 0))
		}},
		{"second chunk", func(mock sqlmock.Sqlmock) {
			mock.ExpectExec(beginSQL).WillReturnResult(sqlmock.NewResult(0, 0))
			expectPlainServer(mock)
			mock.ExpectQuery(materializeSQL).WillReturnRows(outcomeRow(2))
			mock.ExpectQuery(materializeSQL).WillReturnError(boom)
			mock.ExpectExec(rollbackSQL).WillReturnResult(sqlmock.NewResult(0, 0))
		}},
		{"reading the counts", func(mock sqlmock.Sqlmock) {
			mock.ExpectExec(beginSQL).WillReturnResult(sqlmock.NewResult(0, 0))
			expectPlainServer(mock)
			mock.ExpectQuery(materializeSQL).WillReturnRows(outcomeRow(2).RowError(0, boom))
			mock.ExpectExec(rollbackSQL).WillReturnResult(sqlmock.NewResult(0, 0))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, mock := newMock(t)
			tt.expect(mock)
			svc := taskcreate.New(postgres.New(db, postgres.WithChunkSize(2)), taskcreate.WithRetry(1, 0))
			res, err := svc.CreateTasks(t.Context(), request())
			require.ErrorIs(t, err, boom)
			assert.NotErrorIs(t, err, taskcreate.ErrTransient, "a plain error is not retried")
			assert.Contains(t, err.Error(), "postgres: ")
			assert.Zero(t, res, "nothing is reported as created")
		})
	}
}

func TestMaterializeRejectsAnInconsistentAnswer(t *testing.T) {
	db, mock := newMock(t)
	mock.ExpectExec(beginSQL).WillReturnResult(sqlmock.NewResult(0, 0))
	expectPlainServer(mock)
	mock.ExpectQuery(materializeSQL).WillReturnRows(
		sqlmock.NewRows([]string{"unmatched", "suppressed", "skipped", "eligible", "written", "created", "retired", "open"}).AddRow(0, 0, 0, 4, 3, 3, 0, 0))
	mock.ExpectExec(rollbackSQL).WillReturnResult(sqlmock.NewResult(0, 0))
	_, err := taskcreate.New(postgres.New(db)).CreateTasks(t.Context(), request())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "wrote 3 tasks")
}

func TestTransientErrorsAreRetried(t *testing.T) {
	// Each fails a statement before COMMIT: nothing was committed. A lost
	// connection there is transient too.
	transient := []error{io.ErrUnexpectedEOF}
	for _, code := range []string{"40001", "40P01", "08006", "57P01", "53300"} {
		transient = append(transient, &pgconn.PgError{Code: code, Message: "could not serialize access"})
	}
	for _, conflict := range transient {
		t.Run(conflict.Error(), func(t *testing.T) {
			db, mock := newMock(t)
			mock.ExpectExec(beginSQL).WillReturnResult(sqlmock.NewResult(0, 0))
			expectPlainServer(mock)
			mock.ExpectQuery(materializeSQL).WillReturnError(conflict)
			mock.ExpectExec(rollbackSQL).WillReturnResult(sqlmock.NewResult(0, 0))
			mock.ExpectExec(beginSQL).WillReturnResult(sqlmock.NewResult(0, 0))
			mock.ExpectQuery(materializeSQL).WillReturnRows(outcomeRow(4))
			mock.ExpectExec(commitSQL).WillReturnResult(sqlmock.NewResult(0, 0))
			res, err := taskcreate.New(postgres.New(db), taskcreate.WithRetry(2, time.Millisecond)).CreateTasks(t.Context(), request())
			require.NoError(t, err)
			assert.Equal(t, 4, res.Created)
		})
	}
}

func TestPermanentErrorsReachThePgError(t *testing.T) {
	db, mock := newMock(t)
	mock.ExpectExec(beginSQL).WillReturnResult(sqlmock.NewResult(0, 0))
	expectPlainServer(mock)
	mock.ExpectQuery(materializeSQL).WillReturnError(&pgconn.PgError{Code: "42P01", Message: `relation "tasks" does not exist`})
	mock.ExpectExec(rollbackSQL).WillReturnResult(sqlmock.NewResult(0, 0))
	_, err := taskcreate.New(postgres.New(db)).CreateTasks(t.Context(), request())
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	assert.Equal(t, "42P01", pgErr.Code)
	assert.NotErrorIs(t, err, taskcreate.ErrTransient)
}

func TestCallerTransactionIsNeitherCommittedNorRetried(t *testing.T) {
	db, mock := newMock(t)
	mock.ExpectBegin()
	expectPlainServer(mock)
	mock.ExpectQuery(materializeSQL).WillReturnRows(outcomeRow(2))
	mock.ExpectQuery(materializeSQL).WillReturnError(&pgconn.PgError{Code: "40001"})
	mock.ExpectRollback()

	tx, err := db.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	store := postgres.New(db, postgres.WithChunkSize(2)).WithTx(tx)
	_, err = taskcreate.New(store, taskcreate.WithRetry(5, time.Millisecond)).CreateTasks(t.Context(), request())
	require.Error(t, err)
	assert.NotErrorIs(t, err, taskcreate.ErrTransient, "only the caller can retry its transaction")
	require.NoError(t, tx.Rollback())
}

func TestOtherStatementFailuresComeBackWrapped(t *testing.T) {
	boom := errors.New("server closed the connection")
	qty := 1
	vector := taskcreate.ActionVector{OrganizationID: "org", VariantID: "v", ShopID: "s", Domain: taskcreate.Restock,
		SnapshotDate: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), RecommendedQty: &qty, Snapshot: []byte(`{}`)}
	tests := []struct {
		name   string
		expect func(mock sqlmock.Sqlmock)
		call   func(ctx context.Context, s *postgres.Store) error
	}{
		{"put action vectors", func(mock sqlmock.Sqlmock) {
			mock.ExpectExec(beginSQL).WillReturnResult(sqlmock.NewResult(0, 0))
			mock.ExpectExec(putVectorsSQL).WillReturnError(boom)
			mock.ExpectExec(rollbackSQL).WillReturnResult(sqlmock.NewResult(0, 0))
		},
			func(ctx context.Context, s *postgres.Store) error {
				return s.PutActionVectors(ctx, []taskcreate.ActionVector{vector})
			}},
		{"list tasks", func(mock sqlmock.Sqlmock) { mock.ExpectQuery(listTasksSQL).WillReturnError(boom) },
			func(ctx context.Context, s *postgres.Store) error {
				_, err := s.ListTasks(ctx, taskcreate.TaskFilter{OrganizationID: "org"})
				return err
			}},
		{"set task status", func(mock sqlmock.Sqlmock) {
			mock.ExpectExec(beginSQL).WillReturnResult(sqlmock.NewResult(0, 0))
			mock.ExpectExec(setStatusSQL).WillReturnError(boom)
			mock.ExpectExec(rollbackSQL).WillReturnResult(sqlmock.NewResult(0, 0))
		},
			func(ctx context.Context, s *postgres.Store) error {
				return s.SetTaskStatus(ctx, "org", uuid.New(), taskcreate.StatusDone)
			}},
		{"migrate: Citus check", func(mock sqlmock.Sqlmock) { mock.ExpectQuery(citusSQL).WillReturnError(boom) },
			func(ctx context.Context, s *postgres.Store) error { return s.Migrate(ctx) }},
		{"migrate: action-vector check", func(mock sqlmock.Sqlmock) {
			expectPlainServer(mock)
			mock.ExpectQuery(regclassSQL).WillReturnError(boom)
		}, func(ctx context.Context, s *postgres.Store) error { return s.Migrate(ctx) }},
		{"migrate: migrations table", func(mock sqlmock.Sqlmock) {
			expectPlainServer(mock)
			mock.ExpectQuery(regclassSQL).WillReturnRows(sqlmock.NewRows([]string{"exists"}).AddRow(true))
			mock.ExpectExec(migrationsDDL).WillReturnError(boom)
		}, func(ctx context.Context, s *postgres.Store) error { return s.Migrate(ctx) }},
		{"migrate: lock", func(mock sqlmock.Sqlmock) {
			expectPlainServer(mock)
			mock.ExpectQuery(regclassSQL).WillReturnRows(sqlmock.NewRows([]string{"exists"}).AddRow(true))
			mock.ExpectExec(migrationsDDL).WillReturnResult(sqlmock.NewResult(0, 0))
			mock.ExpectExec(beginSQL).WillReturnResult(sqlmock.NewResult(0, 0))
			mock.ExpectExec(migrationLock).WillReturnError(boom)
			mock.ExpectExec(rollbackSQL).WillReturnResult(sqlmock.NewResult(0, 0))
		}, func(ctx context.Context, s *postgres.Store) error { return s.Migrate(ctx) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, mock := newMock(t)
			tt.expect(mock)
			err := tt.call(t.Context(), postgres.New(db))
			require.ErrorIs(t, err, boom)
			assert.Contains(t, err.Error(), "postgres: ")
		})
	}
}

func TestInvalidOptionsFailWhenTheStoreIsBuilt(t *testing.T) {
	db, _ := newMock(t)
	for _, name := range []string{"", "tasks; DROP TABLE x", `"tasks"`, "a.b.c", "1tasks", "tâches", "s.", "x" + string(make([]byte, 48))} {
		assert.Contains(t, panicMessage(t, func() { postgres.New(db, postgres.WithTasksTable(name)) }), "WithTasksTable", "table name %q", name)
		assert.ErrorContains(t, postgres.CheckOptions(postgres.WithTasksTable(name)), "WithTasksTable", "table name %q", name)
	}
	for option, opt := range map[string]postgres.Option{
		"WithActionVectorTable": postgres.WithActionVectorTable("gold lakebase.action_vector"),
		"WithClock":             postgres.WithClock(nil),
		"WithChunkSize":         postgres.WithChunkSize(0),
		"WithMaxConns":          postgres.WithMaxConns(0),
	} {
		assert.Contains(t, panicMessage(t, func() { postgres.New(db, opt) }), option, "New panics naming the option")
		_, err := postgres.Open(t.Context(), "postgres://unused", opt)
		assert.ErrorContains(t, err, option, "Open returns an error naming the option")
		assert.ErrorContains(t, postgres.CheckOptions(postgres.WithTasksTable("s.tasks"), opt), option, "CheckOptions names the invalid option")
	}
	assert.NoError(t, postgres.CheckOptions(postgres.WithTasksTable("s.tasks"), postgres.WithActionVectorTable("gold_lakebase.action_vector"),
		postgres.WithCitus(), postgres.WithMaxConns(1)), "valid options")
	assert.Contains(t, panicMessage(t, func() { postgres.New(nil) }), "nil *sql.DB")
}

// panicMessage returns what f panics with, failing the test if it does not.
func panicMessage(t *testing.T, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Error("want a panic, got none")
		}
		msg = fmt.Sprint(r)
	}()
	f()
	return ""
}

// sentButSafeToRetry is what pgx returns when the connection closed after
// a COMMIT was written, which it may still call safe to retry.
type sentButSafeToRetry struct{}

func (sentButSafeToRetry) Error() string     { return "conn closed" }
func (sentButSafeToRetry) SafeToRetry() bool { return true }

// A COMMIT error leaves the outcome unknown unless it proves a rollback: a
// connection lost after COMMIT was sent, a server shutting down, and a
// Citus coordinator that lost a committing worker may all follow a commit.
// The call says so and is not retried. A COMMIT the server refused (class
// 40, or a deferred constraint of class 23) failed for certain.
func TestCommitTellsWhatItKnows(t *testing.T) {
	for _, lost := range []error{io.ErrUnexpectedEOF, errors.New("write tcp: connection reset by peer"),
		&pgconn.PgError{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"},
		&pgconn.PgError{Severity: "ERROR", Code: "XX000", Message: "could not commit transaction for shard 102008 on at least one active node"},
		sentButSafeToRetry{}, // pgx's word for a COMMIT whose answer was lost
	} {
		t.Run("lost during commit: "+lost.Error(), func(t *testing.T) {
			db, mock := newMock(t)
			mock.ExpectExec(beginSQL).WillReturnResult(sqlmock.NewResult(0, 0))
			expectPlainServer(mock)
			mock.ExpectQuery(materializeSQL).WillReturnRows(outcomeRow(4))
			mock.ExpectExec(commitSQL).WillReturnError(lost)
			mock.ExpectExec(rollbackSQL).WillReturnError(lost)
			res, err := taskcreate.New(postgres.New(db), taskcreate.WithRetry(3, time.Millisecond)).CreateTasks(t.Context(), request())
			require.ErrorIs(t, err, taskcreate.ErrOutcomeUnknown)
			require.ErrorIs(t, err, lost)
			assert.NotErrorIs(t, err, taskcreate.ErrTransient, "a commit that may have happened is not retried")
			assert.Zero(t, res)
		})
	}
	t.Run("refused by the server", func(t *testing.T) {
		db, mock := newMock(t)
		mock.ExpectExec(beginSQL).WillReturnResult(sqlmock.NewResult(0, 0))
		expectPlainServer(mock)
		mock.ExpectQuery(materializeSQL).WillReturnRows(outcomeRow(4))
		mock.ExpectExec(commitSQL).WillReturnError(&pgconn.PgError{Code: "40001"})
		mock.ExpectExec(rollbackSQL).WillReturnResult(sqlmock.NewResult(0, 0))
		mock.ExpectExec(beginSQL).WillReturnResult(sqlmock.NewResult(0, 0))
		mock.ExpectQuery(materializeSQL).WillReturnRows(outcomeRow(4))
		mock.ExpectExec(commitSQL).WillReturnResult(sqlmock.NewResult(0, 0))
		res, err := taskcreate.New(postgres.New(db), taskcreate.WithRetry(3, time.Millisecond)).CreateTasks(t.Context(), request())
		require.NoError(t, err, "a serialization failure at commit is retried")
		assert.Equal(t, 4, res.Created)
	})
	t.Run("a deferred constraint broken at commit", func(t *testing.T) {
		db, mock := newMock(t)
		mock.ExpectExec(beginSQL).WillReturnResult(sqlmock.NewResult(0, 0))
		expectPlainServer(mock)
		mock.ExpectQuery(materializeSQL).WillReturnRows(outcomeRow(4))
		mock.ExpectExec(commitSQL).WillReturnError(&pgconn.PgError{Code: "23505", Message: "duplicate key value"})
		mock.ExpectExec(rollbackSQL).WillReturnResult(sqlmock.NewResult(0, 0))
		_, err := taskcreate.New(postgres.New(db), taskcreate.WithRetry(3, time.Millisecond)).CreateTasks(t.Context(), request())
		require.Error(t, err)
		assert.NotErrorIs(t, err, taskcreate.ErrOutcomeUnknown, "the server rolled the transaction back")
		assert.NotErrorIs(t, err, taskcreate.ErrTransient)
	})
}

// SetTaskStatus, which no service retries, retries a deadlock itself, but
// not in the caller's transaction, which only the caller can retry.
func TestSetTaskStatusRetriesATransientError(t *testing.T) {
	id := uuid.New()
	t.Run("own transaction", func(t *testing.T) {
		db, mock := newMock(t)
		mock.ExpectExec(beginSQL).WillReturnResult(sqlmock.NewResult(0, 0))
		mock.ExpectExec(setStatusSQL).WillReturnError(&pgconn.PgError{Code: "40P01", Message: "deadlock detected"})
		mock.ExpectExec(rollbackSQL).WillReturnResult(sqlmock.NewResult(0, 0))
		mock.ExpectExec(beginSQL).WillReturnResult(sqlmock.NewResult(0, 0))
		mock.ExpectExec(setStatusSQL).WillReturnResult(sqlmock.NewResult(0, 1))
		mock.ExpectExec(commitSQL).WillReturnResult(sqlmock.NewResult(0, 0))
		require.NoError(t, postgres.New(db).SetTaskStatus(t.Context(), "org", id, taskcreate.StatusDone))
	})
	t.Run("caller's transaction", func(t *testing.T) {
		db, mock := newMock(t)
		mock.ExpectBegin()
		mock.ExpectExec(setStatusSQL).WillReturnError(&pgconn.PgError{Code: "40P01", Message: "deadlock detected"})
		mock.ExpectRollback()
		tx, err := db.BeginTx(t.Context(), nil)
		require.NoError(t, err)
		err = postgres.New(db).WithTx(tx).SetTaskStatus(t.Context(), "org", id, taskcreate.StatusDone)
		require.Error(t, err)
		assert.NotErrorIs(t, err, taskcreate.ErrTransient)
		require.NoError(t, tx.Rollback())
	})
}
