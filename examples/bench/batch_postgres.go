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
	in := newBatchInput(req)
	now = now.UTC().Truncate(time.Microsecond)
	err = d.raw(ctx, func(conn *pgx.Conn) error {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx) // a no-op after Commit

		rows, err := tx.Query(ctx, `
			WITH latest AS (
			    SELECT d.domain, (SELECT max(snapshot_date) FROM `+d.table(pgVectors)+`
			                      WHERE organization_id = $1 AND domain = d.domain) AS snapshot_date
			    FROM unnest($4::text[]) AS d(domain))
			SELECT v.variant_id, v.shop_id, v.domain, v.snapshot_date, v.recommended_qty, v.recommended_discount_pct,
			       v.recommendation_confidence, v.decision_vector_snapshot::text
			FROM unnest($2::text[], $3::text[]) AS p(variant_id, shop_id)
			CROSS JOIN latest AS l
			JOIN `+d.table(pgVectors)+` AS v
			  ON v.organization_id = $1 AND v.variant_id = p.variant_id AND v.shop_id = p.shop_id
			 AND v.snapshot_date = l.snapshot_date AND v.domain = l.domain`,
			in.org, in.variants, in.shops, in.domains)
		if err != nil {
			return err
		}
		var read []vectorRow
		for rows.Next() {
			var r vectorRow
			var date time.Time
			if err := rows.Scan(&r.variant, &r.shop, &r.domain, &date, &r.qty, &r.discount, &r.confidence, &r.evidence); err != nil {
				rows.Close()
				return err
			}
			r.date = date
			read = append(read, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		tasks, counts, err := in.classify(read)
		if err != nil {
			return err
		}
		out = counts

		if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE batch_tasks (LIKE `+d.table(pgTasks)+`) ON COMMIT DROP`); err != nil {
			return err
		}
		columns := []string{"id", "organization_id", "source_type", "domain", "shop_id", "variant_id", "status", "priority",
			"workflow_run_id", "snapshot_date", "recommended_qty", "recommended_discount_pct", "confidence", "evidence",
			"created_at", "updated_at"}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{"batch_tasks"}, columns, pgx.CopyFromSlice(len(tasks), func(i int) ([]any, error) {
			t := tasks[i]
			return []any{t.id.String(), in.org, "ACTION_VECTOR", t.domain, t.shop, t.variant, "OPEN", in.priority, in.run,
				t.date, t.qty, t.discount, t.confidence, t.evidence, now, now}, nil
		}))
		if err != nil {
			return err
		}
		if n != int64(len(tasks)) {
			return fmt.Errorf("COPY wrote %d of %d rows", n, len(tasks))
		}
		// The tasks that kept the id proposed for them are new.
		var created int
		if err := tx.QueryRow(ctx, `
			WITH written AS (
			    INSERT INTO `+d.table(pgTasks)+` AS t (`+taskColumns+`)
			    SELECT `+taskColumns+` FROM batch_tasks`+openKeyConflict+`
			    RETURNING t.id)
			SELECT count(*) FROM written JOIN batch_tasks USING (id)`).Scan(&created); err != nil {
			return err
		}
		out.Created, out.Updated = created, len(tasks)-created
		return tx.Commit(ctx)
	})
	if err != nil {
		return store.Outcome{}, fmt.Errorf("postgres: batch: %w", err)
	}
	return out, nil
}
