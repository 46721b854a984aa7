package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"sync"
	"sync/atomic"

	"modernc.org/sqlite"

	"github.com/actionvector/tasks/taskcreate"
)

// A batch is classified into a temporary table, a chunk of pairs per
// statement, then upserted into tasks in one statement, and the created
// tasks are counted in another: a constant number of statements per chunk,
// never one per candidate. Only eligible candidates enter the table.
//
// The classifying statement counts the candidates it matches through a
// function the package registers with the driver,
// actionvector_tasks_classified, called once per candidate that has an
// action vector at its domain's latest date, with the token of the call's
// tally and the candidate's outcome. Candidates it never sees are unmatched.
const (
	createCandidateTable = `CREATE TEMP TABLE IF NOT EXISTS actionvector_task_candidate (
		ord                      INTEGER PRIMARY KEY, -- the candidate's index in the batch
		domain                   TEXT NOT NULL,
		shop_id                  TEXT NOT NULL,
		variant_id               TEXT NOT NULL,
		snapshot_date            TEXT NOT NULL,
		recommended_qty          INTEGER,
		recommended_discount_pct REAL,
		confidence               REAL,
		evidence                 TEXT NOT NULL)`

	clearCandidates = `DELETE FROM temp.actionvector_task_candidate`

	// ?1 organization, ?2 min confidence, ?3 domains (JSON array, in batch
	// order), ?4 a chunk of pairs (JSON array of [shop, variant]), ?5 index
	// of the chunk's first pair, ?6 number of pairs in the batch, ?7 the
	// tally's token.
	//
	// Pairs are looked up in primary-key order, one range scan each for all
	// domains from the earliest of their latest dates; CROSS JOIN keeps
	// SQLite to that order. The CASE guard calls the tally only for rows at
	// their domain's latest date, whatever order SQLite tests the terms in;
	// the outcome is 0 suppressed, 1 skipped, 2 eligible, and the tally
	// returns 1, keeping the row, only for eligible.
	classifyCandidates = `
		WITH latest(domain, di, snapshot_date) AS MATERIALIZED (
			SELECT d.value, d.key, (SELECT max(m.snapshot_date) FROM action_vector m
			                        WHERE m.organization_id = ?1 AND m.domain = d.value)
			FROM json_each(?3) d
		),
		pair(pi, shop_id, variant_id) AS MATERIALIZED (
			SELECT ?5 + j.key, j.value->>0, j.value->>1 FROM json_each(?4) j ORDER BY 3, 2
		)
		INSERT INTO temp.actionvector_task_candidate
		SELECT l.di * ?6 + p.pi, l.domain, p.shop_id, p.variant_id, v.snapshot_date,
		       v.recommended_qty, v.recommended_discount_pct, v.recommendation_confidence,
		       v.decision_vector_snapshot
		FROM pair p
		CROSS JOIN action_vector v
		CROSS JOIN latest l
		WHERE v.organization_id = ?1 AND v.variant_id = p.variant_id AND v.shop_id = p.shop_id
		  AND v.snapshot_date >= (SELECT min(snapshot_date) FROM latest)
		  AND l.domain = v.domain AND l.snapshot_date = v.snapshot_date
		  AND CASE WHEN l.domain = v.domain AND l.snapshot_date = v.snapshot_date THEN
		          actionvector_tasks_classified(?7, CASE
		              WHEN ?2 > 0 AND v.recommendation_confidence < ?2 THEN 0
		              WHEN l.domain = 'markdown' AND coalesce(v.recommended_discount_pct, 0) <= 0 THEN 1
		              WHEN l.domain <> 'markdown' AND coalesce(v.recommended_qty, 0) <= 0 THEN 1
		              ELSE 2
		          END)
		      END`

	// ?1 organization, ?2 priority of new tasks, ?3 workflow run, ?4 now,
	// ?5 the proposed ids (16 bytes each, in batch order). In key order, as
	// the Batch asks; WHERE true: SQLite's rule for INSERT ... SELECT ... ON
	// CONFLICT.
	upsertEligible = `
		INSERT INTO tasks (id, organization_id, source_type, domain, shop_id, variant_id, status, priority,
		                   workflow_run_id, snapshot_date, recommended_qty, recommended_discount_pct,
		                   confidence, evidence, created_at, updated_at)
		SELECT substr(?5, ord * 16 + 1, 16), ?1, 'ACTION_VECTOR', domain, shop_id, variant_id, 'OPEN', ?2,
		       ?3, snapshot_date, recommended_qty, recommended_discount_pct,
		       confidence, evidence, ?4, ?4
		FROM temp.actionvector_task_candidate
		WHERE true
		ORDER BY ord
		ON CONFLICT (organization_id, domain, shop_id, variant_id)
		    WHERE source_type = 'ACTION_VECTOR' AND status IN ('OPEN', 'IN_PROGRESS')
		DO UPDATE SET workflow_run_id          = excluded.workflow_run_id,
		              snapshot_date            = excluded.snapshot_date,
		              recommended_qty          = excluded.recommended_qty,
		              recommended_discount_pct = excluded.recommended_discount_pct,
		              confidence               = excluded.confidence,
		              evidence                 = excluded.evidence,
		              updated_at               = excluded.updated_at`

	// ?1 the proposed ids. A candidate created a task exactly when the task
	// now carries the id proposed for it; an update keeps the open task's id.
	countCreated = `
		SELECT count(*) FROM temp.actionvector_task_candidate c
		JOIN tasks t ON t.id = substr(?1, c.ord * 16 + 1, 16)`
)

// tally counts the outcomes of one MaterializeTasks call as its statements
// run. Only the goroutine running the call's statements touches it.
type tally struct {
	suppressed, skipped, eligible int
}

var (
	tallies   sync.Map // token (int64) -> *tally, while a call runs
	lastToken atomic.Int64

	// registerErr is why the tally function could not be registered; every
	// Store reports it.
	registerErr error
)

func init() {
	registerErr = registerTallyFunction()
}

func registerTallyFunction() error {
	err := sqlite.RegisterFunction("actionvector_tasks_classified", &sqlite.FunctionImpl{
		NArgs: 2,
		Scalar: func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			t, err := tallyOf(args[0])
			if err != nil {
				return nil, err
			}
			switch args[1] {
			case int64(0):
				t.suppressed++
			case int64(1):
				t.skipped++
			case int64(2):
				t.eligible++
				return int64(1), nil
			default:
				return nil, fmt.Errorf("actionvector_tasks_classified: outcome %v", args[1])
			}
			return int64(0), nil
		},
	})
	if err != nil {
		return fmt.Errorf("sqlite: register actionvector_tasks_classified: %w", err)
	}
	return nil
}

// tallyOf returns the tally of the call running with token.
func tallyOf(token driver.Value) (*tally, error) {
	if n, ok := token.(int64); ok {
		if t, ok := tallies.Load(n); ok {
			return t.(*tally), nil
		}
	}
	return nil, fmt.Errorf("actionvector_tasks_classified: no CreateTasks call has token %v", token)
}

// MaterializeTasks implements taskcreate.TaskStore.
func (s *Store) MaterializeTasks(ctx context.Context, b *taskcreate.Batch) (taskcreate.Outcome, error) {
	if s.err != nil {
		return taskcreate.Outcome{}, s.err
	}
	if b.Len() == 0 {
		return taskcreate.Outcome{}, nil
	}
	domains := string(appendJSONStrings(nil, b.Domains))
	ids := make([]byte, 0, 16*len(b.ProposedIDs))
	for _, id := range b.ProposedIDs {
		ids = append(ids, id[:]...)
	}
	token := lastToken.Add(1)
	t := new(tally)
	tallies.Store(token, t)
	defer tallies.Delete(token)

	var created int
	err := s.inWriteTx(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, createCandidateTable); err != nil {
			return wrapErr("create candidate table", err)
		}
		if _, err := q.ExecContext(ctx, clearCandidates); err != nil {
			return wrapErr("clear candidates", err)
		}
		var chunk []byte
		for lo := 0; lo < len(b.Pairs); lo += s.chunkSize {
			chunk = appendPairs(chunk[:0], b.Pairs[lo:min(lo+s.chunkSize, len(b.Pairs))])
			if _, err := q.ExecContext(ctx, classifyCandidates,
				b.OrganizationID, b.MinConfidence, domains, string(chunk), lo, len(b.Pairs), token); err != nil {
				return wrapErr("classify candidates", err)
			}
		}
		res, err := q.ExecContext(ctx, upsertEligible, b.OrganizationID, string(b.Priority), b.WorkflowRunID, formatTimestamp(b.Now), ids)
		if err != nil {
			return wrapErr("upsert tasks", err)
		}
		written, err := res.RowsAffected()
		if err != nil {
			return wrapErr("upsert tasks", err)
		}
		if written != int64(t.eligible) {
			return fmt.Errorf("sqlite: upsert wrote %d tasks for %d eligible candidates", written, t.eligible)
		}
		if err := q.QueryRowContext(ctx, countCreated, ids).Scan(&created); err != nil {
			return wrapErr("count created tasks", err)
		}
		if _, err := q.ExecContext(ctx, clearCandidates); err != nil {
			return wrapErr("clear candidates", err)
		}
		return nil
	})
	if err != nil {
		return taskcreate.Outcome{}, err
	}
	return taskcreate.Outcome{
		Created:    created,
		Updated:    t.eligible - created,
		Suppressed: t.suppressed,
		Skipped:    t.skipped,
		Unmatched:  b.Len() - t.suppressed - t.skipped - t.eligible,
	}, nil
}
