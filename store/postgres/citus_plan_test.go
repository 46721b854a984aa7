package postgres

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// routed reports why the EXPLAIN (FORMAT JSON) output of a statement on
// Citus is not one task on one worker, or "" if it is: no distributed
// subplan, no INSERT ... SELECT through the coordinator, no repartition.
func routed(explain string) string {
	var plans []struct {
		Plan struct {
			NodeType         string `json:"Node Type"`
			Provider         string `json:"Custom Plan Provider"`
			DistributedQuery struct {
				Subplans []json.RawMessage `json:"Subplans"`
				Job      struct {
					TaskCount int `json:"Task Count"`
					Tasks     []struct {
						Node string `json:"Node"`
					} `json:"Tasks"`
				} `json:"Job"`
			} `json:"Distributed Query"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(explain), &plans); err != nil || len(plans) != 1 {
		return fmt.Sprintf("not one plan (%v)", err)
	}
	p, q := plans[0].Plan, plans[0].Plan.DistributedQuery
	switch {
	case p.Provider != "Citus Adaptive":
		return fmt.Sprintf("the top node is %s %q, not Citus's adaptive executor", p.NodeType, p.Provider)
	case len(q.Subplans) > 0:
		return fmt.Sprintf("%d distributed subplans", len(q.Subplans))
	case q.Job.TaskCount != 1 || len(q.Job.Tasks) != 1:
		return fmt.Sprintf("%d tasks", q.Job.TaskCount)
	case strings.Contains(explain, "INSERT/SELECT method") || strings.Contains(explain, "Repartition"):
		return "rows go through the coordinator or are repartitioned"
	}
	return ""
}

// On Citus, every statement of a call and every store operation on one
// organization runs as one task on the worker that holds it. The statement
// of the single-server layout, which Citus cannot route, shows that the
// check can fail, and that the 16kB limit on intermediate results the
// conformance run imposes stops it.
func TestCitusRoutesEveryStatementToOneWorker(t *testing.T) {
	db, s := migratedInSchema(t, "TASKS_TEST_CITUS_URL", WithCitus())
	ctx := t.Context()

	// 1,200 keys, all eligible: far more than 16kB of rows to move.
	b := &store.Batch{OrganizationID: "acme", WorkflowRunID: "run", Priority: taskcreate.PriorityMedium,
		Now: time.Now().UTC().Truncate(time.Microsecond), Domains: []taskcreate.Domain{taskcreate.Restock}}
	var rows []taskcreate.ActionVector
	var ids []uuid.UUID
	qty := 1
	for i := range 1200 {
		p := taskcreate.Pair{ShopID: fmt.Sprintf("shop-%02d", i%17), VariantID: fmt.Sprintf("variant-%05d", i)}
		b.Pairs = append(b.Pairs, p)
		ids = append(ids, uuid.New())
		rows = append(rows, taskcreate.ActionVector{OrganizationID: "acme", VariantID: p.VariantID, ShopID: p.ShopID,
			SnapshotDate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Domain: taskcreate.Restock,
			RecommendedQty: &qty, Snapshot: json.RawMessage(`{"why":"a reason long enough to weigh something"}`)})
	}
	b.ProposedIDs = store.IDList(ids...)
	if err := s.PutActionVectors(ctx, rows); err != nil {
		t.Fatal(err)
	}

	explain := func(query string, args ...any) string {
		t.Helper()
		var text string
		if err := db.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&text); err != nil {
			t.Fatalf("EXPLAIN: %v", err)
		}
		return text
	}
	for name, st := range map[string]struct {
		query string
		args  []any
	}{
		"upsert tasks":     {s.sql.upsertTasks, materializeArgs(b)},
		"count outcomes":   {s.sql.countOutcomes, materializeArgs(b)},
		"lock stale tasks": {s.sql.lockStale, materializeArgs(b)},
		"retire stale":     {s.sql.retireStale, append(materializeArgs(b), [][16]byte{b.ProposedIDs.At(0)})},
		"preview counts":   {s.sql.previewCounts, materializeArgs(b)},
		"preview rows":     {s.sql.previewRows, materializeArgs(b)},
		"sweep run":        {s.sql.sweepRun, []any{"acme", "run", b.Now}},
		"count sweep":      {s.sql.countSweep, []any{"acme", "run"}},
		"list tasks":       {s.sql.listTasks, []any{"acme", "", []string{}}},
		"set task status":  {s.sql.setTaskStatus, []any{"DONE", b.Now, "acme", [16]byte(b.ProposedIDs.At(0))}},
	} {
		if why := routed(explain(st.query, st.args...)); why != "" {
			t.Errorf("%s: not routed to one worker: %s", name, why)
		}
	}

	if why := routed(explain(s.sql.materialize[0][0], materializeArgs(b)...)); why == "" {
		t.Error("the single-server statement, which Citus cannot route, passes the check")
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET citus.max_intermediate_result_size = '16kB'`); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, s.sql.materialize[0][0], materializeArgs(b)...)
	if err == nil || !strings.Contains(err.Error(), "intermediate result size exceeds") {
		t.Errorf("the single-server statement under a 16kB limit: want the intermediate-result error, got %v", err)
	}
}
