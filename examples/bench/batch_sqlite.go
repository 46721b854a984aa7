package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// Batch is the batch baseline on SQLite: the pairs go in as one JSON
// array, the eligible rows into a temporary table by a prepared multi-row
// INSERT.
func (d *sqliteDatabase) Batch(ctx context.Context, req taskcreate.Request, now time.Time) (out store.Outcome, err error) {
	in := newBatchInput(req)
	pairs := make([][2]string, len(in.variants))
	for i := range pairs {
		pairs[i] = [2]string{in.variants[i], in.shops[i]}
	}
	pairsJSON, err := json.Marshal(pairs)
	if err != nil {
		return out, err
	}
	domainsJSON, err := json.Marshal(in.domains)
	if err != nil {
		return out, err
	}
	stamp := d.Naive().now(now.UTC().Truncate(time.Microsecond))

	tx, err := d.DB().BeginTx(ctx, nil)
	if err != nil {
		return out, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
			err = fmt.Errorf("sqlite: batch: %w", err)
		}
	}()
	rows, err := tx.QueryContext(ctx, `
		WITH latest AS (
		    SELECT d.value AS domain, (SELECT max(snapshot_date) FROM action_vector
		                               WHERE organization_id = ?1 AND domain = d.value) AS snapshot_date
		    FROM json_each(?3) AS d)
		SELECT v.variant_id, v.shop_id, v.domain, v.snapshot_date, v.recommended_qty, v.recommended_discount_pct,
		       v.recommendation_confidence, v.decision_vector_snapshot
		FROM json_each(?2) AS p
		CROSS JOIN latest AS l
		JOIN action_vector AS v
		  ON v.organization_id = ?1 AND v.variant_id = p.value ->> 0 AND v.shop_id = p.value ->> 1
		 AND v.snapshot_date = l.snapshot_date AND v.domain = l.domain`,
		in.org, string(pairsJSON), string(domainsJSON))
	if err != nil {
		return out, err
	}
	var read []vectorRow
	for rows.Next() {
		var r vectorRow
		var date string
		if err := rows.Scan(&r.variant, &r.shop, &r.domain, &date, &r.qty, &r.discount, &r.confidence, &r.evidence); err != nil {
			rows.Close()
			return out, err
		}
		r.date = date
		read = append(read, r)
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	tasks, out, err := in.classify(read)
	if err != nil {
		return out, err
	}

	if _, err := tx.ExecContext(ctx, `CREATE TEMPORARY TABLE batch_tasks AS SELECT * FROM `+sqliteTasks+` WHERE false`); err != nil {
		return out, err
	}
	staged := make([][]any, len(tasks))
	for i, t := range tasks {
		staged[i] = []any{t.id[:], in.org, "ACTION_VECTOR", t.domain, t.shop, t.variant, "OPEN", in.priority, in.run,
			t.date, t.qty, t.discount, t.confidence, t.evidence, stamp, stamp}
	}
	if err := insertAll(ctx, tx, "temp.batch_tasks", staged); err != nil {
		return out, err
	}
	// WHERE true: SQLite's rule for INSERT ... SELECT ... ON CONFLICT.
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+sqliteTasks+` (`+taskColumns+`)
		SELECT `+taskColumns+` FROM temp.batch_tasks WHERE true`+openKeyConflict); err != nil {
		return out, err
	}
	// The tasks that kept the id proposed for them are new.
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM temp.batch_tasks AS b JOIN `+sqliteTasks+` AS t ON t.id = b.id`).
		Scan(&out.Created); err != nil {
		return out, err
	}
	out.Updated = len(tasks) - out.Created
	if _, err := tx.ExecContext(ctx, `DROP TABLE temp.batch_tasks`); err != nil {
		return out, err
	}
	return out, tx.Commit()
}
