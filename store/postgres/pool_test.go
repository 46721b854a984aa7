package postgres_test

import (
	"fmt"
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
