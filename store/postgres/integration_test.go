package postgres_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/store/postgres"
	"github.com/actionvector/tasks/taskcreate"
)

var latestDay = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// restockVectors returns an eligible restock vector for each pair.
func restockVectors(org string, pairs []taskcreate.Pair) []taskcreate.ActionVector {
	qty, conf := 5, 0.9
	out := make([]taskcreate.ActionVector, len(pairs))
	for i, p := range pairs {
		out[i] = taskcreate.ActionVector{OrganizationID: org, VariantID: p.VariantID, ShopID: p.ShopID, SnapshotDate: latestDay,
			Domain: taskcreate.Restock, RecommendedQty: &qty, Confidence: &conf, Snapshot: json.RawMessage(`{"why":"low cover"}`)}
	}
	return out
}

func pairs(n int) []taskcreate.Pair {
	out := make([]taskcreate.Pair, n)
	for i := range out {
		out[i] = taskcreate.Pair{VariantID: fmt.Sprintf("variant-%05d", i), ShopID: fmt.Sprintf("shop-%02d", i%17)}
	}
	return out
}

func TestCallerTransaction(t *testing.T) {
	ts := newStore(t)
	ctx := t.Context()
	ps := pairs(3)
	require.NoError(t, ts.PutActionVectors(ctx, restockVectors("org", ps)))
	req := taskcreate.Request{OrganizationID: "org", WorkflowRunID: "run", Domains: []taskcreate.Domain{taskcreate.Restock}, Perimeter: ps}

	for _, commit := range []bool{false, true} {
		tx, err := ts.DB().BeginTx(ctx, nil)
		require.NoError(t, err)
		res, err := taskcreate.New(ts.WithTx(tx)).CreateTasks(ctx, req)
		require.NoError(t, err)
		assert.Equal(t, 3, res.Created)

		inside, err := ts.WithTx(tx).ListTasks(ctx, taskcreate.TaskFilter{OrganizationID: "org"})
		require.NoError(t, err)
		assert.Len(t, inside, 3, "the caller's transaction sees its tasks")
		outside, err := ts.ListTasks(ctx, taskcreate.TaskFilter{OrganizationID: "org"})
		require.NoError(t, err)
		assert.Empty(t, outside, "nothing is visible before the caller commits")

		if commit {
			require.NoError(t, tx.Commit())
		} else {
			require.NoError(t, tx.Rollback())
		}
		after, err := ts.ListTasks(ctx, taskcreate.TaskFilter{OrganizationID: "org"})
		require.NoError(t, err)
		if commit {
			assert.Len(t, after, 3)
		} else {
			assert.Empty(t, after, "a rolled-back caller transaction leaves nothing")
		}
	}
}

// TestExistingReadOnlyMirror runs the store as a role that may only read
// the action-vector table, which another role owns and filled.
func TestExistingReadOnlyMirror(t *testing.T) {
	ctx := t.Context()
	mirror, app := newSchema(t), newSchema(t)
	admin := testPool(t)
	role := app + "_role"
	for _, stmt := range []string{
		`CREATE TABLE ` + mirror + `.action_vector (
			organization_id text NOT NULL, variant_id text NOT NULL, shop_id text NOT NULL, snapshot_date date NOT NULL,
			domain text NOT NULL, recommended_qty int, recommended_discount_pct float8, recommendation_confidence float8,
			decision_vector_snapshot jsonb NOT NULL, PRIMARY KEY (organization_id, variant_id, shop_id, snapshot_date, domain))`,
		`INSERT INTO ` + mirror + `.action_vector VALUES ('org', 'v1', 's1', '2026-11-27', 'restock', 4, NULL, 0.8, '{"from":"mirror"}')`,
		`CREATE ROLE ` + role,
		`GRANT USAGE ON SCHEMA ` + mirror + ` TO ` + role,
		`GRANT SELECT ON ` + mirror + `.action_vector TO ` + role,
		`GRANT USAGE, CREATE ON SCHEMA ` + app + ` TO ` + role,
	} {
		_, err := admin.ExecContext(ctx, stmt)
		require.NoError(t, err, stmt)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = admin.ExecContext(ctx, `DROP OWNED BY `+role+` CASCADE`)
		_, _ = admin.ExecContext(ctx, `DROP ROLE `+role)
	})

	// One connection, switched to the restricted role for its whole life.
	conn := restrictedPool(t, role)
	ts := postgres.New(conn, postgres.WithTasksTable(app+".tasks"), postgres.WithActionVectorTable(mirror+".action_vector"))
	require.NoError(t, ts.Migrate(ctx), "Migrate leaves an existing mirror alone")
	require.NoError(t, ts.Migrate(ctx), "Migrate is idempotent")

	res, err := taskcreate.New(ts).CreateTasks(ctx, taskcreate.Request{OrganizationID: "org", WorkflowRunID: "run",
		Domains: []taskcreate.Domain{taskcreate.Restock}, MinConfidence: 0.6, Perimeter: []taskcreate.Pair{{VariantID: "v1", ShopID: "s1"}}})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Created)
	tasks, err := ts.ListTasks(ctx, taskcreate.TaskFilter{OrganizationID: "org"})
	require.NoError(t, err)
	require.Len(t, tasks, 1)
	assert.JSONEq(t, `{"from":"mirror"}`, string(tasks[0].Evidence))

	err = ts.PutActionVectors(ctx, restockVectors("org", pairs(1)))
	assert.ErrorContains(t, err, "permission denied", "the role really cannot write the mirror")
}

func restrictedPool(t *testing.T, role string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", testURL(t))
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	t.Cleanup(func() { db.Close() })
	_, err = db.ExecContext(t.Context(), `SET ROLE `+role)
	require.NoError(t, err)
	return db
}

// servers are the databases the tests that hold for both layouts run on.
var servers = []struct {
	name string
	*server
}{{"postgres", single}, {"citus", distributed}}

func TestMigrateConcurrently(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			schema := srv.newSchema(t)
			_, app := srv.pools(t)
			opts := []postgres.Option{postgres.WithTasksTable(schema + ".tasks"), postgres.WithActionVectorTable(schema + ".action_vector")}
			if srv.citus {
				opts = append(opts, postgres.WithCitus())
			}
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for range 8 {
				wg.Go(func() { errs <- postgres.New(app, opts...).Migrate(t.Context()) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				assert.NoError(t, err)
			}
			var versions []int
			rows, err := app.QueryContext(t.Context(), `SELECT version FROM `+schema+`.tasks_migrations WHERE version > 0 ORDER BY version`)
			require.NoError(t, err)
			defer rows.Close()
			for rows.Next() {
				var v int
				require.NoError(t, rows.Scan(&v))
				versions = append(versions, v)
			}
			files, err := filepath.Glob("migrations/*.sql")
			require.NoError(t, err)
			want := make([]int, len(files))
			for i := range want {
				want[i] = i + 1
			}
			assert.Equal(t, want, versions, "each migration is recorded once")
			require.NoError(t, postgres.New(app, opts...).Migrate(t.Context()), "Migrate is idempotent")
		})
	}
}

// On Citus an existing action-vector table must be distributed by
// organization_id, co-located with the tasks: otherwise a call could not run
// on one worker, and Migrate says so before creating anything, with
// WithCitus or without.
func TestCitusRefusesAMirrorItCannotRouteTo(t *testing.T) {
	admin, app := distributed.pools(t)
	for name, c := range map[string]struct {
		distribute string
		want       string
	}{
		"not distributed":                    {"", "is not a distributed table"},
		"distributed by variant":             {"SELECT create_distributed_table('%s.action_vector', 'variant_id')", "is distributed by variant_id, not organization_id"},
		"not distributed, without WithCitus": {"", "create_distributed_table"},
	} {
		t.Run(name, func(t *testing.T) {
			opts := []postgres.Option{postgres.WithCitus()}
			if strings.HasSuffix(name, "without WithCitus") {
				opts = nil
			}
			schema := distributed.newSchema(t)
			_, err := admin.ExecContext(t.Context(), `CREATE TABLE `+schema+`.action_vector (
				organization_id text NOT NULL, variant_id text NOT NULL, shop_id text NOT NULL, snapshot_date date NOT NULL,
				domain text NOT NULL, recommended_qty int, recommended_discount_pct float8, recommendation_confidence float8,
				decision_vector_snapshot jsonb NOT NULL, PRIMARY KEY (organization_id, variant_id, shop_id, snapshot_date, domain))`)
			require.NoError(t, err)
			if c.distribute != "" {
				_, err = admin.ExecContext(t.Context(), fmt.Sprintf(c.distribute, schema))
				require.NoError(t, err)
			}
			err = postgres.New(app, append(opts, postgres.WithTasksTable(schema+".tasks"),
				postgres.WithActionVectorTable(schema+".action_vector"))...).Migrate(t.Context())
			require.ErrorContains(t, err, c.want)
			assert.ErrorContains(t, err, "on Citus")
			var tasks bool
			require.NoError(t, admin.QueryRowContext(t.Context(), `SELECT to_regclass($1) IS NOT NULL`, schema+".tasks").Scan(&tasks))
			assert.False(t, tasks, "no tasks table is created beside a mirror calls cannot be routed to")
		})
	}
}

// The Citus tests' role may move at most 16kB through the coordinator, so a
// statement that is not routed to one worker fails instead of passing.
func TestCitusRoleLimitsIntermediateResults(t *testing.T) {
	_, app := distributed.pools(t)
	var limit string
	require.NoError(t, app.QueryRowContext(t.Context(), `SHOW citus.max_intermediate_result_size`).Scan(&limit))
	assert.Equal(t, "16kB", limit)
}

// countingStore counts the errors the store itself returns, which the
// service would otherwise retry out of sight.
type countingStore struct {
	taskcreate.TaskStore
	errors  atomic.Int64
	lastErr atomic.Value
}

func (c *countingStore) MaterializeTasks(ctx context.Context, b *store.Batch) (store.Outcome, error) {
	out, err := c.TaskStore.MaterializeTasks(ctx, b)
	if err != nil {
		c.errors.Add(1)
		c.lastErr.Store(err.Error())
	}
	return out, err
}

func TestConcurrentOverlappingCallsDoNotDeadlock(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) { concurrentOverlappingCalls(t, srv.newStore(t)) })
	}
}

func concurrentOverlappingCalls(t *testing.T, ts *postgres.Store) {
	ctx := t.Context()
	all := pairs(3000)
	require.NoError(t, ts.PutActionVectors(ctx, restockVectors("org", all)))

	counted := &countingStore{TaskStore: ts}
	svc := taskcreate.New(counted)
	const workers, calls = 12, 4
	var created atomic.Int64
	var wg sync.WaitGroup
	window := func(w, c int) []taskcreate.Pair { return all[(w*250+c*100)%1000:][:2000] }
	covered := map[taskcreate.Pair]bool{}
	for w := range workers {
		for c := range calls {
			for _, p := range window(w, c) {
				covered[p] = true
			}
		}
	}
	for w := range workers {
		wg.Go(func() {
			for c := range calls {
				// Overlapping windows, every other worker in reverse order.
				perimeter := slices.Clone(window(w, c))
				if w%2 == 1 {
					slices.Reverse(perimeter)
				}
				res, err := svc.CreateTasks(ctx, taskcreate.Request{OrganizationID: "org", WorkflowRunID: fmt.Sprintf("run-%d-%d", w, c),
					Domains: taskcreate.Domains(), MinConfidence: 0.5, Perimeter: perimeter})
				if !assert.NoError(t, err) {
					return
				}
				created.Add(int64(res.Created))
			}
		})
	}
	wg.Wait()
	assert.Zero(t, counted.errors.Load(), "the store met deadlocks or conflicts (last: %v)", counted.lastErr.Load())

	open, err := ts.ListTasks(ctx, taskcreate.TaskFilter{OrganizationID: "org",
		Statuses: []taskcreate.Status{taskcreate.StatusOpen, taskcreate.StatusInProgress}})
	require.NoError(t, err)
	keys := make(map[string]bool, len(open))
	for _, task := range open {
		key := string(task.Domain) + "/" + task.ShopID + "/" + task.VariantID
		assert.False(t, keys[key], "two open tasks for %s", key)
		keys[key] = true
	}
	assert.Equal(t, int64(len(open)), created.Load(), "each open task was created exactly once")
	assert.Equal(t, len(covered), len(open), "every eligible key has its task")
}
