package sqlite

import (
	"context"
	"fmt"

	"github.com/actionvector/tasks/taskcreate"
)

// A batch is classified into a temporary table, a chunk of pairs per
// statement, then upserted into tasks in one statement and tallied in
// another: a constant number of statements per chunk, never one per
// candidate. Only candidates with an action vector enter the table; the
// others are unmatched.
const (
	createCandidateTable = `CREATE TEMP TABLE IF NOT EXISTS actionvector_task_candidate (
		ord                      INTEGER PRIMARY KEY, -- the candidate's index in the batch
		outcome                  TEXT NOT NULL,       -- suppressed, skipped or eligible
		domain                   TEXT NOT NULL,
		shop_id                  TEXT NOT NULL,
		variant_id               TEXT NOT NULL,
		snapshot_date            TEXT NOT NULL,
		recommended_qty          INTEGER,
		recommended_discount_pct REAL,
		confidence               REAL,
		evidence                 TEXT)` // only for eligible candidates

	clearCandidates = `DELETE FROM temp.actionvector_task_candidate`

	// ?1 organization, ?2 min confidence, ?3 domains (JSON array, in batch
	// order), ?4 a chunk of pairs (JSON array of [shop, variant]), ?5 index
	// of the chunk's first pair, ?6 number of pairs in the batch.
	//
	// Pairs are looked up in primary-key order, one range scan each for all
	// domains from the earliest of their latest dates; CROSS JOIN keeps
	// SQLite to that order.
	classifyCandidates = `
		WITH latest(domain, di, snapshot_date) AS MATERIALIZED (
			SELECT d.value, d.key, (SELECT max(m.snapshot_date) FROM action_vector m
			                        WHERE m.organization_id = ?1 AND m.domain = d.value)
			FROM json_each(?3) d
		),
		pair(pi, shop_id, variant_id) AS MATERIALIZED (
			SELECT ?5 + j.key, j.value->>0, j.value->>1 FROM json_each(?4) j ORDER BY 3, 2
		),
		matched AS (
			SELECT l.di * ?6 + p.pi AS ord, l.domain, p.shop_id, p.variant_id, v.snapshot_date,
			       v.recommended_qty, v.recommended_discount_pct, v.recommendation_confidence,
			       v.decision_vector_snapshot,
			       CASE
			           WHEN ?2 > 0 AND v.recommendation_confidence < ?2 THEN 'suppressed'
			           WHEN l.domain = 'markdown' AND coalesce(v.recommended_discount_pct, 0) <= 0 THEN 'skipped'
			           WHEN l.domain <> 'markdown' AND coalesce(v.recommended_qty, 0) <= 0 THEN 'skipped'
			           ELSE 'eligible'
			       END AS outcome
			FROM pair p
			CROSS JOIN action_vector v
			CROSS JOIN latest l
			WHERE v.organization_id = ?1 AND v.variant_id = p.variant_id AND v.shop_id = p.shop_id
			  AND v.snapshot_date >= (SELECT min(snapshot_date) FROM latest)
			  AND l.domain = v.domain AND l.snapshot_date = v.snapshot_date
		)
		INSERT INTO temp.actionvector_task_candidate
		SELECT ord, outcome, domain, shop_id, variant_id, snapshot_date, recommended_qty,
		       recommended_discount_pct, recommendation_confidence,
		       CASE WHEN outcome = 'eligible' THEN decision_vector_snapshot END
		FROM matched`

	// ?1 organization, ?2 priority of new tasks, ?3 workflow run, ?4 now,
	// ?5 the proposed ids (16 bytes each, in batch order). WHERE true:
	// SQLite's rule for INSERT ... SELECT ... ON CONFLICT.
	upsertEligible = `
		INSERT INTO tasks (id, organization_id, source_type, domain, shop_id, variant_id, status, priority,
		                   workflow_run_id, snapshot_date, recommended_qty, recommended_discount_pct,
		                   confidence, evidence, created_at, updated_at)
		SELECT substr(?5, ord * 16 + 1, 16), ?1, 'ACTION_VECTOR', domain, shop_id, variant_id, 'OPEN', ?2,
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

	// ?1 the proposed ids. A candidate created a task exactly when the task
	// now carries the id proposed for it; an update keeps the open task's id.
	tallyOutcomes = `
		SELECT count(*),
		       count(*) FILTER (WHERE outcome = 'suppressed'),
		       count(*) FILTER (WHERE outcome = 'skipped'),
		       count(*) FILTER (WHERE outcome = 'eligible'),
		       (SELECT count(*) FROM temp.actionvector_task_candidate c
		        JOIN tasks t ON t.id = substr(?1, c.ord * 16 + 1, 16)
		        WHERE c.outcome = 'eligible')
		FROM temp.actionvector_task_candidate`
)

// MaterializeTasks implements taskcreate.TaskStore.
func (s *Store) MaterializeTasks(ctx context.Context, b *taskcreate.Batch) (out taskcreate.Outcome, err error) {
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
	err = s.inWriteTx(ctx, func(q querier) error {
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
				b.OrganizationID, b.MinConfidence, domains, string(chunk), lo, len(b.Pairs)); err != nil {
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
		var matched, eligible, created int
		if err := q.QueryRowContext(ctx, tallyOutcomes, ids).Scan(&matched, &out.Suppressed, &out.Skipped, &eligible, &created); err != nil {
			return wrapErr("tally outcomes", err)
		}
		if written != int64(eligible) {
			return fmt.Errorf("sqlite: upsert wrote %d tasks for %d eligible candidates", written, eligible)
		}
		out.Created, out.Updated, out.Unmatched = created, eligible-created, b.Len()-matched
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
