package postgres_test

import (
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
			schema := srv.newSchema(t)
			ts := postgres.NewFromPool(pool, postgres.WithTasksTable(schema+".tasks"), postgres.WithActionVectorTable(schema+".action_vector"))
			require.NoError(t, ts.Migrate(ctx))
			ps := pairs(4)
			require.NoError(t, ts.PutActionVectors(ctx, restockVectors("org", ps)))

			svc := taskcreate.New(ts)
			req := taskcreate.Request{OrganizationID: "org", WorkflowRunID: "run-1", Domains: []taskcreate.Domain{taskcreate.Restock}, Perimeter: ps}
			res, err := svc.CreateTasks(ctx, req)
			require.NoError(t, err)
			assert.Equal(t, 4, res.Created)
			req.WorkflowRunID = "run-2"
			res, err = svc.CreateTasks(ctx, req)
			require.NoError(t, err)
			assert.Equal(t, 4, res.Updated)
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
