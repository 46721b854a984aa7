package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/actionvector/tasks/taskcreate"
)

// ?1 rows: a JSON array of [organization, variant, shop, date, domain, qty,
// discount, confidence, snapshot] arrays.
const upsertActionVectors = `
	INSERT INTO action_vector (organization_id, variant_id, shop_id, snapshot_date, domain,
	                           recommended_qty, recommended_discount_pct, recommendation_confidence,
	                           decision_vector_snapshot)
	SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8
	FROM json_each(?1)
	WHERE true
	ON CONFLICT (organization_id, variant_id, shop_id, snapshot_date, domain)
	DO UPDATE SET recommended_qty           = excluded.recommended_qty,
	              recommended_discount_pct  = excluded.recommended_discount_pct,
	              recommendation_confidence = excluded.recommendation_confidence,
	              decision_vector_snapshot  = excluded.decision_vector_snapshot`

// PutActionVectors inserts rows, replacing those with the same primary key
// (organization, variant, shop, snapshot date, domain), in one transaction.
// Invalid rows are reported as a *taskcreate.ValidationError and nothing is
// written.
func (s *Store) PutActionVectors(ctx context.Context, rows []taskcreate.ActionVector) error {
	if err := taskcreate.ValidateActionVectors(rows); err != nil {
		return err
	}
	return s.inWriteTx(ctx, func(q querier) error {
		var buf []byte
		for lo := 0; lo < len(rows); lo += s.chunkSize {
			buf = appendActionVectors(buf[:0], rows[lo:min(lo+s.chunkSize, len(rows))])
			if _, err := q.ExecContext(ctx, upsertActionVectors, string(buf)); err != nil {
				return wrapErr("put action vectors", err)
			}
		}
		return nil
	})
}

func appendActionVectors(dst []byte, rows []taskcreate.ActionVector) []byte {
	dst = append(dst, '[')
	for i, v := range rows {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		for _, s := range []string{v.OrganizationID, v.VariantID, v.ShopID, formatDate(v.SnapshotDate), string(v.Domain)} {
			dst = appendJSONString(dst, s)
			dst = append(dst, ',')
		}
		dst = appendJSONInt(dst, v.RecommendedQty)
		dst = append(dst, ',')
		dst = appendJSONFloat(dst, v.RecommendedDiscountPct)
		dst = append(dst, ',')
		dst = appendJSONFloat(dst, v.Confidence)
		dst = append(dst, ',')
		dst = appendJSONString(dst, string(v.Snapshot))
		dst = append(dst, ']')
	}
	return append(dst, ']')
}

// ?1 organization, ?2 workflow run or "", ?3 statuses (JSON array) or NULL.
const selectTasks = `
	SELECT id, domain, shop_id, variant_id, status, priority, workflow_run_id, snapshot_date,
	       recommended_qty, recommended_discount_pct, confidence, evidence, created_at, updated_at
	FROM tasks
	WHERE organization_id = ?1
	  AND (?2 = '' OR workflow_run_id = ?2)
	  AND (?3 IS NULL OR status IN (SELECT value FROM json_each(?3)))
	ORDER BY domain, shop_id, variant_id, created_at, id`

// ListTasks returns the tasks of f.OrganizationID that match f, ordered by
// domain, shop, variant and creation time (strings in byte order).
func (s *Store) ListTasks(ctx context.Context, f taskcreate.TaskFilter) ([]taskcreate.Task, error) {
	if s.err != nil {
		return nil, s.err
	}
	if err := taskcreate.ValidateTaskFilter(f); err != nil {
		return nil, err
	}
	var statuses any
	if len(f.Statuses) > 0 {
		statuses = string(appendJSONStrings(nil, f.Statuses))
	}
	rows, err := s.db.QueryContext(ctx, selectTasks, f.OrganizationID, f.WorkflowRunID, statuses)
	if err != nil {
		return nil, wrapErr("list tasks", err)
	}
	defer rows.Close()
	var tasks []taskcreate.Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, err
		}
		t.OrganizationID = f.OrganizationID
		tasks = append(tasks, t)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr("list tasks", err)
	}
	return tasks, nil
}

func scanTask(rows *sql.Rows) (taskcreate.Task, error) {
	var (
		t                        taskcreate.Task
		id                       []byte
		snapshot, created, upd   string
		domain, status, priority string
		evidence                 string
	)
	// Nullable columns scan into the pointer fields: NULL leaves them nil.
	if err := rows.Scan(&id, &domain, &t.ShopID, &t.VariantID, &status, &priority, &t.WorkflowRunID, &snapshot,
		&t.RecommendedQty, &t.RecommendedDiscountPct, &t.Confidence, &evidence, &created, &upd); err != nil {
		return t, wrapErr("list tasks", err)
	}
	var err error
	if t.ID, err = uuid.FromBytes(id); err != nil {
		return t, fmt.Errorf("sqlite: bad task id %x in database: %w", id, err)
	}
	if t.SnapshotDate, err = parseDate(snapshot); err != nil {
		return t, err
	}
	if t.CreatedAt, err = parseTimestamp(created); err != nil {
		return t, err
	}
	if t.UpdatedAt, err = parseTimestamp(upd); err != nil {
		return t, err
	}
	t.Domain, t.Status, t.Priority = taskcreate.Domain(domain), taskcreate.Status(status), taskcreate.Priority(priority)
	t.Evidence = json.RawMessage(evidence)
	return t, nil
}

// SetTaskStatus moves a task of the organization to status st and stamps
// updated_at. It returns taskcreate.ErrTaskNotFound if the organization has
// no such task, and taskcreate.ErrOpenTaskExists if reopening it would give
// its key a second open task.
func (s *Store) SetTaskStatus(ctx context.Context, organizationID string, id uuid.UUID, st taskcreate.Status) error {
	if err := taskcreate.ValidateStatusChange(organizationID, st); err != nil {
		return err
	}
	return s.inWriteTx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE tasks SET status = ?1, updated_at = ?2 WHERE organization_id = ?3 AND id = ?4`,
			string(st), formatTimestamp(s.now()), organizationID, id[:])
		if isUniqueViolation(err) {
			return fmt.Errorf("sqlite: set task %s to %s: %w: %w", id, st, taskcreate.ErrOpenTaskExists, err)
		}
		if err != nil {
			return wrapErr("set task status", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return wrapErr("set task status", err)
		} else if n == 0 {
			return fmt.Errorf("sqlite: task %s: %w", id, taskcreate.ErrTaskNotFound)
		}
		return nil
	})
}
