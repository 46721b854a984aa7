package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// Batch is the batch baseline on PostgreSQL, on pgx itself: COPY needs it.
func (d *pgDatabase) Batch(ctx context.Context, req taskcreate.Request, now time.Time) (out store.Outcome, err error) {
	err = d.raw(ctx, func(conn *pgx.Conn) error {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx) // a no-op after Commit
		if out, err = newBatchInput(req).batch(ctx, pgBatch{d: d, tx: tx, now: now.UTC().Truncate(time.Microsecond)}); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return store.Outcome{}, fmt.Errorf("postgres: batch: %w", err)
	}
	return out, nil
}

// pgBatch is the batch baseline's transaction on PostgreSQL.
type pgBatch struct {
	d   *pgDatabase
	tx  pgx.Tx
	now time.Time // of the tasks written
}

// read sends the pairs as two arrays.
func (b pgBatch) read(ctx context.Context, in batchInput) ([]vectorRow, error) {
	vectors := b.d.table(pgVectors)
	rows, err := b.tx.Query(ctx, `
		WITH latest AS (
		    SELECT d.domain, (SELECT max(snapshot_date) FROM `+vectors+`
		                      WHERE organization_id = $1 AND domain = d.domain) AS snapshot_date
		    FROM unnest($4::text[]) AS d(domain))
		SELECT v.variant_id, v.shop_id, v.domain, v.snapshot_date, v.recommended_qty, v.recommended_discount_pct,
		       v.recommendation_confidence, v.decision_vector_snapshot::text
		FROM unnest($2::text[], $3::text[]) AS p(variant_id, shop_id)
		CROSS JOIN latest AS l
		JOIN `+vectors+` AS v
		  ON v.organization_id = $1 AND v.variant_id = p.variant_id AND v.shop_id = p.shop_id
		 AND v.snapshot_date = l.snapshot_date AND v.domain = l.domain`,
		in.org, in.variants, in.shops, in.domains)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanVectors[time.Time](rows)
}

// write stages the tasks by COPY into a temporary table dropped at commit.
func (b pgBatch) write(ctx context.Context, in batchInput, tasks []batchTask) (created int, err error) {
	tasksTable := b.d.table(pgTasks)
	if _, err := b.tx.Exec(ctx, `CREATE TEMPORARY TABLE batch_tasks (LIKE `+tasksTable+`) ON COMMIT DROP`); err != nil {
		return 0, err
	}
	n, err := b.tx.CopyFrom(ctx, pgx.Identifier{"batch_tasks"}, taskColumnNames, pgx.CopyFromSlice(len(tasks), func(i int) ([]any, error) {
		return in.values(tasks[i], tasks[i].id.String(), b.now), nil
	}))
	if err != nil {
		return 0, err
	}
	if n != int64(len(tasks)) {
		return 0, fmt.Errorf("COPY wrote %d of %d rows", n, len(tasks))
	}
	// The tasks that kept the id proposed for them are new.
	err = b.tx.QueryRow(ctx, `
		WITH written AS (
		    INSERT INTO `+tasksTable+` AS t (`+taskColumns+`)
		    SELECT `+taskColumns+` FROM batch_tasks`+openKeyConflict+`
		    RETURNING t.id)
		SELECT count(*) FROM written JOIN batch_tasks USING (id)`).Scan(&created)
	return created, err
}
