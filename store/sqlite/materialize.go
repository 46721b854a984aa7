package sqlite

import (
	"context"
	"fmt"

	"github.com/actionvector/tasks/taskcreate"
)

// The candidates of a batch are classified into a temporary table, chunk by
// chunk, then upserted into tasks in one statement and tallied in another:
// a constant number of statements per chunk, never one per candidate.
const (
	createCandidateTable = `CREATE TEMP TABLE IF NOT EXISTS actionvector_task_candidate (
		ord                      INTEGER PRIMARY KEY,
		domain                   TEXT NOT NULL,
		shop_id                  TEXT NOT NULL,
		variant_id               TEXT NOT NULL,
		proposed_id              TEXT NOT NULL,
		outcome                  TEXT NOT NULL,
		snapshot_date            TEXT,
		recommended_qty          INTEGER,
		recommended_discount_pct REAL,
		confidence               REAL,
		evidence                 TEXT)`

	clearCandidates = `DELETE FROM temp.actionvector_task_candidate`

	// ?1 organization, ?2 min confidence, ?3 domains (JSON array),
	// ?4 candidates (JSON array of [domain, shop, variant, proposed id]),
	// ?5 ordinal of the chunk's first candidate.
	classifyCandidates = `
		WITH latest(domain, snapshot_date) AS MATERIALIZED (
			SELECT d.value, (SELECT max(m.snapshot_date) FROM action_vector m
			                 WHERE m.organization_id = ?1 AND m.domain = d.value)
			FROM json_each(?3) d
		),
		candidate AS (
			SELECT ?5 + j.key AS ord, j.value->>0 AS domain, j.value->>1 AS shop_id,
			       j.value->>2 AS variant_id, j.value->>3 AS proposed_id
			FROM json_each(?4) j
		)
		INSERT INTO temp.actionvector_task_candidate
		SELECT c.ord, c.domain, c.shop_id, c.variant_id, c.proposed_id,
		       CASE
		           WHEN av.domain IS NULL THEN 'unmatched'
		           WHEN ?2 > 0 AND av.recommendation_confidence < ?2 THEN 'suppressed'
		           WHEN c.domain = 'markdown' AND coalesce(av.recommended_discount_pct, 0) <= 0 THEN 'skipped'
		           WHEN c.domain <> 'markdown' AND coalesce(av.recommended_qty, 0) <= 0 THEN 'skipped'
		           ELSE 'eligible'
		       END,
		       av.snapshot_date, av.recommended_qty, av.recommended_discount_pct,
		       av.recommendation_confidence, av.decision_vector_snapshot
		FROM candidate c
		JOIN latest l ON l.domain = c.domain
		LEFT JOIN action_vector av
		       ON av.organization_id = ?1 AND av.variant_id = c.variant_id AND av.shop_id = c.shop_id
		      AND av.snapshot_date = l.snapshot_date AND av.domain = c.domain`

	// ?1 organization, ?2 priority of new tasks, ?3 workflow run, ?4 now.
	// WHERE true: SQLite's rule for INSERT ... SELECT ... ON CONFLICT.
	upsertEligible = `
		INSERT INTO tasks (id, organization_id, source_type, domain, shop_id, variant_id, status, priority,
		                   workflow_run_id, snapshot_date, recommended_qty, recommended_discount_pct,
		                   confidence, evidence, created_at, updated_at)
		SELECT proposed_id, ?1, 'ACTION_VECTOR', domain, shop_id, variant_id, 'OPEN', ?2,
		       ?3, snapshot_date, recommended_qty, recommended_discount_pct,
		       confidence, evidence, ?4, ?4
		FROM temp.actionvector_task_candidate
		WHERE outcome = 'eligible'
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

	// A candidate created a task exactly when the task now carries the id
	// proposed for it; otherwise the upsert kept the open task's id.
	tallyOutcomes = `
		SELECT count(*) FILTER (WHERE c.outcome = 'unmatched'),
		       count(*) FILTER (WHERE c.outcome = 'suppressed'),
		       count(*) FILTER (WHERE c.outcome = 'skipped'),
		       count(*) FILTER (WHERE c.outcome = 'eligible'),
		       count(t.id)
		FROM temp.actionvector_task_candidate c
		LEFT JOIN tasks t ON c.outcome = 'eligible' AND t.id = c.proposed_id`
)

// MaterializeTasks implements taskcreate.TaskStore.
func (s *Store) MaterializeTasks(ctx context.Context, b *taskcreate.Batch) (out taskcreate.Outcome, err error) {
	if b.Len() == 0 {
		return taskcreate.Outcome{}, nil
	}
	domains := string(appendJSONStrings(nil, b.Domains))
	err = s.inWriteTx(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, createCandidateTable); err != nil {
			return wrapErr("create candidate table", err)
		}
		if _, err := q.ExecContext(ctx, clearCandidates); err != nil {
			return wrapErr("clear candidates", err)
		}
		var chunk []byte
		for lo := 0; lo < b.Len(); lo += s.chunkSize {
			hi := min(lo+s.chunkSize, b.Len())
			chunk = appendCandidates(chunk[:0], b, lo, hi)
			if _, err := q.ExecContext(ctx, classifyCandidates, b.OrganizationID, b.MinConfidence, domains, string(chunk), lo); err != nil {
				return wrapErr("classify candidates", err)
			}
		}
		res, err := q.ExecContext(ctx, upsertEligible, b.OrganizationID, string(b.Priority), b.WorkflowRunID, formatTimestamp(b.Now))
		if err != nil {
			return wrapErr("upsert tasks", err)
		}
		written, err := res.RowsAffected()
		if err != nil {
			return wrapErr("upsert tasks", err)
		}
		var eligible, created int
		if err := q.QueryRowContext(ctx, tallyOutcomes).Scan(&out.Unmatched, &out.Suppressed, &out.Skipped, &eligible, &created); err != nil {
			return wrapErr("tally outcomes", err)
		}
		if written != int64(eligible) {
			return fmt.Errorf("sqlite: upsert wrote %d tasks for %d eligible candidates", written, eligible)
		}
		out.Created, out.Updated = created, eligible-created
		if _, err := q.ExecContext(ctx, clearCandidates); err != nil {
			return wrapErr("clear candidates", err)
		}
		return nil
	})
	if err != nil {
		return taskcreate.Outcome{}, err
	}
	return out, nil
}
