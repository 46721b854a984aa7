package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
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
	b := &store.Batch{OrganizationID: "acme", WorkflowRunID: "run", Priority: taskcreate.PriorityMedium,
		Now: time.Now().UTC().Truncate(time.Microsecond), Domains: taskcreate.Domains()}
	var rows []taskcreate.ActionVector
	qty := 1
	for i := range pairs {
		p := taskcreate.Pair{ShopID: fmt.Sprintf("shop-%02d", i%17), VariantID: fmt.Sprintf("variant-%05d", i)}
		b.Pairs = append(b.Pairs, p)
		if i%4 == 0 {
			rows = append(rows, taskcreate.ActionVector{OrganizationID: "acme", VariantID: p.VariantID, ShopID: p.ShopID,
				SnapshotDate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Domain: taskcreate.Restock,
				RecommendedQty: &qty, Snapshot: json.RawMessage(`{}`)})
		}
	}
	for range b.Len() {
		b.ProposedIDs = append(b.ProposedIDs, uuid.New())
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
		case n.RelationName == "action_vector" && n.ActualLoops == pairs:
			// The lookup of each pair's rows: it must seek the pair by
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
			if n.RelationName == "tasks" && n.NodeType == "Seq Scan" && n.ActualLoops > 1 {
				t.Errorf("%s: the tasks are scanned %d times, once per candidate, not looked up by key", name, n.ActualLoops)
			}
			// A list of the statement joined to another by a nested loop
			// is read once per row of the other: quadratic. (The pairs are
			// read once per domain.)
			if n.NodeType == "CTE Scan" && n.ActualLoops > len(b.Domains) {
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
