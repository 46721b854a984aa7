package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// planNode is the part of EXPLAIN (FORMAT JSON) the test reads.
type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	CTEName      string     `json:"CTE Name"`
	IndexName    string     `json:"Index Name"`
	IndexCond    string     `json:"Index Cond"`
	ActualLoops  int        `json:"Actual Loops"`
	Plans        []planNode `json:"Plans"`
}

func (n planNode) walk(visit func(planNode)) {
	visit(n)
	for _, c := range n.Plans {
		c.walk(visit)
	}
}

// The materialize statement must look action vectors up from the pairs, by
// primary key, whatever the planner believes of the tables: here a table
// with no statistics yet, where earlier shapes of the statement rescanned
// the pairs for every action vector, or filtered the whole latest snapshot
// for every pair. (On a table of a few hundred rows the planner may still
// prefer the latter: at that size it costs nothing.)
func TestMaterializeDrivesLookupsFromThePairs(t *testing.T) {
	db, s := migratedInSchema(t, "TASKS_TEST_POSTGRES_URL")
	ctx := t.Context()

	const pairs = 8000
	b := planBatch(pairs, func(i int) taskcreate.Pair {
		return taskcreate.Pair{ShopID: fmt.Sprintf("shop-%02d", i%17), VariantID: fmt.Sprintf("variant-%05d", i)}
	})
	var rows []taskcreate.ActionVector
	qty := 1
	for i, p := range b.Pairs {
		if i%4 == 0 {
			rows = append(rows, taskcreate.ActionVector{OrganizationID: "acme", VariantID: p.VariantID, ShopID: p.ShopID,
				SnapshotDate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Domain: taskcreate.Restock,
				RecommendedQty: &qty, Snapshot: json.RawMessage(`{}`)})
		}
	}
	if err := s.PutActionVectors(ctx, rows); err != nil {
		t.Fatal(err)
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var plan []struct{ Plan planNode }
	var text []byte
	if err := tx.QueryRowContext(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+s.sql.materialize[0][0], materializeArgs(b)...).Scan(&text); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(text, &plan); err != nil || len(plan) != 1 {
		t.Fatalf("EXPLAIN output: %v: %s", err, text)
	}
	pairScans, vectorScans := 0, 0
	plan[0].Plan.walk(func(n planNode) {
		switch {
		case n.CTEName == "pair":
			pairScans++
			if n.ActualLoops > 1 {
				t.Errorf("the pairs are scanned %d times: a nested loop rescans them for every action vector", n.ActualLoops)
			}
		case n.RelationName == "action_vector" && n.ActualLoops == pairs*len(b.Domains):
			// The lookup of each candidate's row: it must seek it by
			// primary key, not filter a whole snapshot for it.
			vectorScans++
			if n.IndexName != "action_vector_pkey" {
				t.Errorf("each pair is looked up by a %s on %q, not by the primary key", n.NodeType, n.IndexName)
			}
		case n.RelationName == "action_vector" && n.NodeType == "Seq Scan":
			t.Errorf("the action vectors are read by a sequential scan, not looked up by key")
		}
	})
	if pairScans == 0 || vectorScans == 0 {
		t.Fatalf("no scan of the pairs (%d) or per-pair lookup of the action vectors (%d) in the plan: %s", pairScans, vectorScans, text)
	}

	// The statements that look each candidate's task up, on the tasks the
	// statement above just wrote, which the planner has no statistics of:
	// none may scan the table once per candidate.
	for name, query := range map[string]string{
		"retire stale": s.sql.materialize[1][0], "list outcomes": s.sql.materialize[0][1], "retire and list": s.sql.materialize[1][1],
		"preview counts": s.sql.previewCounts, "preview rows": s.sql.previewRows,
	} {
		var text []byte
		if err := tx.QueryRowContext(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+query, materializeArgs(b)...).Scan(&text); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []struct{ Plan planNode }
		if err := json.Unmarshal(text, &plan); err != nil || len(plan) != 1 {
			t.Fatalf("%s: EXPLAIN output: %v: %s", name, err, text)
		}
		plan[0].Plan.walk(func(n planNode) {
			if n.RelationName == "tasks" && n.ActualLoops > 1 && !strings.Contains(n.IndexCond, "variant_id") {
				t.Errorf("%s: the tasks are scanned %d times, once per candidate, not looked up by key: %s on %q (%s)",
					name, n.ActualLoops, n.NodeType, n.IndexName, n.IndexCond)
			}
			// A list of the statement joined to another by a nested loop
			// is read once per row of the other: quadratic. (The requested
			// domains are read once per pair, the pairs once per domain.)
			if n.NodeType == "CTE Scan" && n.CTEName != "latest" && n.ActualLoops > len(b.Domains) {
				t.Errorf("%s: %s is scanned %d times, once per row of a join", name, n.CTEName, n.ActualLoops)
			}
		})
	}
}

// migratedInSchema returns a pool on the server the environment variable
// names and a migrated Store with opts on it, in a schema of its own that
// is dropped when the test ends; it skips the test when the variable is not
// set.
func migratedInSchema(t *testing.T, variable string, opts ...Option) (*sql.DB, *Store) {
	t.Helper()
	dsn := os.Getenv(variable)
	if dsn == "" {
		t.Skipf("%s is not set", variable)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	schema := fmt.Sprintf("tasks_test_plan_%d", time.Now().UnixNano())
	if _, err := db.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	s := New(db, append(opts, WithTasksTable(schema+".tasks"), WithActionVectorTable(schema+".action_vector"))...)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db, s
}

// At 100,000 pairs, on tables with statistics and a task for every
// candidate, no statement of a call sorts: the pairs come in the lock
// order, each pair's domains in theirs, and every statement reads and
// writes in that order, the open-key index's. (The arrays reach the planner
// only through sub-selects, so the plan is this one at any size.)
func TestNoStatementOfACallSorts(t *testing.T) {
	const pairs = 100_000
	b := planBatch(pairs, func(i int) taskcreate.Pair { // 200 shops, in key order
		return taskcreate.Pair{ShopID: fmt.Sprintf("shop-%03d", i/(pairs/200)), VariantID: fmt.Sprintf("variant-%06d", i)}
	})
	db, s := migratedInSchema(t, "TASKS_TEST_POSTGRES_URL")
	ctx := t.Context()
	// The pairs' action vectors in every domain, and a task for each.
	for _, q := range []string{
		`INSERT INTO ` + s.names.ActionVector + ` (organization_id, variant_id, shop_id, snapshot_date, domain, recommended_qty,
		     recommended_discount_pct, recommendation_confidence, decision_vector_snapshot)
		 SELECT 'acme', format('variant-%s', lpad(i::text, 6, '0')), format('shop-%s', lpad((i / ` + fmt.Sprint(pairs/200) + `)::text, 3, '0')),
		        date '2026-01-01', d, 1, 10, 0.9, '{}'
		 FROM generate_series(0, ` + fmt.Sprint(pairs-1) + `) i, unnest(ARRAY['markdown', 'rebalance', 'restock']) d`,
		`INSERT INTO ` + s.names.Tasks + ` (id, organization_id, source_type, domain, shop_id, variant_id, status, priority,
		     workflow_run_id, snapshot_date, evidence, created_at, updated_at)
		 SELECT gen_random_uuid(), organization_id, 'ACTION_VECTOR', domain, shop_id, variant_id, 'OPEN', 'MEDIUM',
		        'run-0', snapshot_date, '{}', now(), now()
		 FROM ` + s.names.ActionVector,
		`ANALYZE ` + s.names.ActionVector,
		`ANALYZE ` + s.names.Tasks,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	args := materializeArgs(b)
	for name, query := range map[string]string{
		"materialize": s.sql.materialize[0][0], "retire stale": s.sql.materialize[1][0],
		"list outcomes": s.sql.materialize[0][1], "retire and list": s.sql.materialize[1][1],
		"preview counts": s.sql.previewCounts, "preview rows": s.sql.previewRows,
		"Citus: lock": s.sql.lockStale, "Citus: upsert": s.sql.upsertTasks, "Citus: count": s.sql.countOutcomes,
		"Citus: retire": s.sql.retireStale,
	} {
		a := args
		if name == "Citus: retire" {
			a = append(args[:len(args):len(args)], [][16]byte{})
		}
		var text []byte
		if err := db.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+query, a...).Scan(&text); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []struct{ Plan planNode }
		if err := json.Unmarshal(text, &plan); err != nil || len(plan) != 1 {
			t.Fatalf("%s: EXPLAIN output: %v: %s", name, err, text)
		}
		plan[0].Plan.walk(func(n planNode) {
			if strings.Contains(n.NodeType, "Sort") {
				t.Errorf("%s: a %s node in the plan: %s", name, n.NodeType, text)
			}
		})
	}
}

// planBatch is a batch of acme's run in every domain over the pairs pair
// gives, with fresh proposed ids.
func planBatch(pairs int, pair func(int) taskcreate.Pair) *store.Batch {
	b := &store.Batch{OrganizationID: "acme", WorkflowRunID: "run", Priority: taskcreate.PriorityMedium,
		Now: time.Now().UTC().Truncate(time.Microsecond), Domains: taskcreate.Domains()}
	for i := range pairs {
		b.Pairs = append(b.Pairs, pair(i))
	}
	ids := make([]uuid.UUID, b.Len())
	for i := range ids {
		ids[i] = uuid.New()
	}
	b.ProposedIDs = store.IDList(ids...)
	return b
}
