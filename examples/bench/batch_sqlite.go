package main

import (
	"context"
	"database/sql"
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
	if out, err = newBatchInput(req).batch(ctx, sqliteBatch{tx: tx, now: now}); err != nil {
		return out, err
	}
	return out, tx.Commit()
}

// sqliteBatch is the batch baseline's transaction on SQLite.
type sqliteBatch struct {
	tx  *sql.Tx
	now time.Time // of the tasks written
}

// read sends the pairs and the domains as JSON arrays.
func (b sqliteBatch) read(ctx context.Context, in batchInput) ([]vectorRow, error) {
	pairs := make([][2]string, len(in.variants))
	for i := range pairs {
		pairs[i] = [2]string{in.variants[i], in.shops[i]}
	}
	pairsJSON, err := json.Marshal(pairs)
	if err != nil {
		return nil, err
	}
	domainsJSON, err := json.Marshal(in.domains)
	if err != nil {
		return nil, err
	}
	rows, err := b.tx.QueryContext(ctx, `
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
		return nil, err
	}
	defer rows.Close()
	return scanVectors[string](rows)
}

// write stages the tasks by prepared multi-row INSERTs into a temporary
// table, dropped before the commit.
func (b sqliteBatch) write(ctx context.Context, in batchInput, tasks []batchTask) (created int, err error) {
	if _, err := b.tx.ExecContext(ctx, `CREATE TEMPORARY TABLE batch_tasks AS SELECT * FROM `+sqliteTasks+` WHERE false`); err != nil {
		return 0, err
	}
	stamp := sqliteTimestamp(b.now.UTC().Truncate(time.Microsecond))
	staged := make([][]any, len(tasks))
	for i, t := range tasks {
		staged[i] = in.values(t, t.id[:], stamp)
	}
	if err := insertAll(ctx, b.tx, "temp.batch_tasks", staged); err != nil {
		return 0, err
	}
	// WHERE true: SQLite's rule for INSERT ... SELECT ... ON CONFLICT.
	if _, err := b.tx.ExecContext(ctx, `INSERT INTO `+sqliteTasks+` (`+taskColumns+`)
		SELECT `+taskColumns+` FROM temp.batch_tasks WHERE true`+openKeyConflict); err != nil {
		return 0, err
	}
	// The tasks that kept the id proposed for them are new.
	if err := b.tx.QueryRowContext(ctx, `SELECT count(*) FROM temp.batch_tasks AS b JOIN `+sqliteTasks+` AS t ON t.id = b.id`).
		Scan(&created); err != nil {
		return 0, err
	}
	_, err = b.tx.ExecContext(ctx, `DROP TABLE temp.batch_tasks`)
	return created, err
}
