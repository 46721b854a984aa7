package postgres_test

import (
	"database/sql"
	"fmt"
	"log"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/store/postgres"
	"github.com/actionvector/tasks/taskcreate"
)

// A service on pgx hands the store its own pool: migrate, create, update,
// sweep and read all take their connections from it, and closing the store
// leaves it open for the service.
func TestNewFromPool(t *testing.T) {
	for name, srv := range map[string]*server{"postgres": single, "citus": distributed} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			pool, err := pgxpool.New(ctx, srv.appURL(t))
			require.NoError(t, err)
			defer pool.Close()
			ts := postgres.NewFromPool(pool, tablesIn(srv.newSchema(t))...)
			require.NoError(t, ts.Migrate(ctx))
			ps := pairs(4)
			require.NoError(t, ts.PutActionVectors(ctx, restockVectors("org", ps)))

			svc := taskcreate.New(ts)
			for i, want := range [][2]int{{4, 0}, {0, 4}} { // created, updated by run-1, then run-2
				res, err := svc.CreateTasks(ctx, taskcreate.Request{OrganizationID: "org", WorkflowRunID: fmt.Sprintf("run-%d", i+1),
					Domains: []taskcreate.Domain{taskcreate.Restock}, Perimeter: ps})
				require.NoError(t, err)
				assert.Equal(t, want, [2]int{res.Created, res.Updated}, "run-%d", i+1)
			}
			swept, err := svc.SweepRun(ctx, taskcreate.SweepRequest{OrganizationID: "org", WorkflowRunID: "run-2"})
			require.NoError(t, err)
			assert.Equal(t, 4, swept.Dismissed)
			tasks, err := ts.ListTasks(ctx, taskcreate.TaskFilter{OrganizationID: "org", Statuses: []taskcreate.Status{taskcreate.StatusDismissed}})
			require.NoError(t, err)
			assert.Len(t, tasks, 4)

			assert.Positive(t, pool.Stat().AcquireCount(), "the store's statements ran on the service's pool")
			assert.Zero(t, pool.Stat().AcquiredConns(), "no connection is held between calls")
			require.NoError(t, ts.Close())
			assert.NoError(t, pool.Ping(ctx), "closing the store leaves the service's pool open")
		})
	}
}

func TestNewFromPoolPanicsOnNil(t *testing.T) {
	assert.PanicsWithValue(t, "postgres: NewFromPool: nil *pgxpool.Pool", func() { postgres.NewFromPool(nil) })
}

// The pgx Examples run as written, against tables in a schema of their
// own that DATABASE_URL's search_path names.
func TestPgxExamples(t *testing.T) {
	schema := newSchema(t)
	u, err := url.Parse(testURL(t))
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	t.Setenv("DATABASE_URL", u.String())
	var logged strings.Builder
	log.SetOutput(&logged)
	log.SetFlags(0)
	t.Cleanup(func() { log.SetOutput(os.Stderr); log.SetFlags(log.LstdFlags) })
	ctx, db := t.Context(), testPool(t)

	ExampleNewFromPool()
	var migrated bool
	require.NoError(t, db.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, schema+".tasks").Scan(&migrated))
	assert.True(t, migrated, "ExampleNewFromPool migrates the tables of DATABASE_URL's search_path")

	_, err = db.ExecContext(ctx, `CREATE TABLE `+schema+`.workflow_runs (id text PRIMARY KEY, state text NOT NULL);
		INSERT INTO `+schema+`.workflow_runs VALUES ('workflow-run-uuid-abc123', 'MATCHED')`)
	require.NoError(t, err)
	ts := postgres.New(db, tablesIn(schema)...)
	org := "550e8400-e29b-41d4-a716-446655440001"
	require.NoError(t, ts.PutActionVectors(ctx, restockVectors(org, []taskcreate.Pair{{VariantID: "variant-uuid-1", ShopID: "shop-uuid-1"}})))

	ExampleStore_WithPgxTx()
	assert.Equal(t, "created 1, updated 0\n", logged.String())
	var state string
	require.NoError(t, db.QueryRowContext(ctx, `SELECT state FROM `+schema+`.workflow_runs`).Scan(&state))
	assert.Equal(t, "TASKS_CREATED", state, "the service's own write committed")
	tasks, err := ts.ListTasks(ctx, taskcreate.TaskFilter{OrganizationID: org})
	require.NoError(t, err)
	require.Len(t, tasks, 1, "the task committed with it")
	assert.Equal(t, "workflow-run-uuid-abc123", tasks[0].WorkflowRunID)
}

func TestWithPgxTxPanicsOnNil(t *testing.T) {
	assert.PanicsWithValue(t, "postgres: WithPgxTx: nil pgx.Tx", func() { postgres.New(&sql.DB{}).WithPgxTx(nil) })
}
