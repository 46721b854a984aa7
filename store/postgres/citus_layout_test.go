package postgres_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/store/postgres"
	"github.com/actionvector/tasks/taskcreate"
)

// tablesIn names the tables of a schema.
func tablesIn(schema string) []postgres.Option {
	return []postgres.Option{postgres.WithTasksTable(schema + ".tasks"), postgres.WithActionVectorTable(schema + ".action_vector")}
}

// A store opened without WithCitus on a Citus coordinator takes the
// distributed layout all the same: Migrate distributes a new schema, and a
// store on tables migrated WithCitus routes every call. The stores run as
// the role that may move at most 16kB through the coordinator, so a call
// that was not routed would fail: 1,200 keys weigh far more.
func TestCitusWithoutWithCitus(t *testing.T) {
	admin, app := distributed.pools(t)
	ctx := t.Context()
	calls := func(t *testing.T, s *postgres.Store) {
		t.Helper()
		ps := pairs(1200)
		require.NoError(t, s.PutActionVectors(ctx, restockVectors("acme", ps)))
		svc := taskcreate.New(s)
		req := taskcreate.Request{OrganizationID: "acme", WorkflowRunID: "run-1", Domains: []taskcreate.Domain{taskcreate.Restock}, Perimeter: ps}
		res, err := svc.CreateTasks(ctx, req)
		require.NoError(t, err)
		assert.Equal(t, 1200, res.Created)

		// A newer snapshot recommends nothing for half the pairs: their
		// tasks are retired.
		newer := restockVectors("acme", ps)
		for i := range newer {
			newer[i].SnapshotDate = latestDay.AddDate(0, 0, 1)
			if i%2 == 0 {
				newer[i].RecommendedQty = nil
			}
			newer[i].Snapshot = json.RawMessage(`{"why":"newer"}`)
		}
		require.NoError(t, s.PutActionVectors(ctx, newer))
		req.WorkflowRunID, req.RetireStale, req.ReturnOutcomes = "run-2", true, true
		res, err = svc.CreateTasks(ctx, req)
		require.NoError(t, err, "a call that retires stale tasks")
		assert.Equal(t, []int{0, 600, 600, 600}, []int{res.Created, res.Updated, res.Skipped, res.Retired})
		assert.Len(t, res.Outcomes, 1200)
	}
	distributedTables := func(t *testing.T, schema string) int {
		t.Helper()
		var n int
		require.NoError(t, admin.QueryRowContext(ctx, `SELECT count(*) FROM pg_dist_partition
			WHERE logicalrelid IN (to_regclass($1), to_regclass($2))`, schema+".tasks", schema+".action_vector").Scan(&n))
		return n
	}

	t.Run("Open on a new schema", func(t *testing.T) {
		schema := distributed.newSchema(t)
		s, err := postgres.Open(ctx, distributed.appURL(t), tablesIn(schema)...)
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		assert.Equal(t, 2, distributedTables(t, schema), "both tables are distributed")
		calls(t, s)
	})
	t.Run("New on a schema migrated WithCitus", func(t *testing.T) {
		schema := distributed.newSchema(t)
		require.NoError(t, postgres.New(app, append(tablesIn(schema), postgres.WithCitus())...).Migrate(ctx))
		calls(t, postgres.New(app, tablesIn(schema)...)) // no Migrate: the first call finds the layout
	})
	t.Run("one table distributed and the other not", func(t *testing.T) {
		schema := distributed.newSchema(t)
		require.NoError(t, postgres.New(app, tablesIn(schema)...).Migrate(ctx))
		_, err := admin.ExecContext(ctx, `SELECT undistribute_table($1)`, schema+".tasks")
		require.NoError(t, err)
		ps := pairs(3)
		s := postgres.New(app, tablesIn(schema)...)
		require.NoError(t, s.PutActionVectors(ctx, restockVectors("acme", ps)))
		_, err = taskcreate.New(s).CreateTasks(ctx, taskcreate.Request{OrganizationID: "acme", WorkflowRunID: "run",
			Domains: []taskcreate.Domain{taskcreate.Restock}, Perimeter: ps})
		require.ErrorContains(t, err, "create_distributed_table", "a call refuses, naming the fix")
		assert.ErrorContains(t, postgres.New(app, tablesIn(schema)...).Migrate(ctx), "is not a distributed table")
	})
}

// WithCitus on a server without Citus fails at Migrate, saying what is
// missing, instead of failing on a function that does not exist.
func TestWithCitusNeedsCitus(t *testing.T) {
	schema := newSchema(t)
	err := postgres.New(testPool(t), append(tablesIn(schema), postgres.WithCitus())...).Migrate(t.Context())
	require.ErrorContains(t, err, "citus extension is not installed")
}
