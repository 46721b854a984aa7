package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/actionvector/tasks/internal/sqldb"
	"github.com/actionvector/tasks/store"
)

// PutActionVectors inserts rows, replacing those with the same primary key
// (organization, variant, shop, snapshot date, domain), in one transaction.
// Invalid rows are reported as a *store.ValidationError and nothing is
// written.
func (s *Store) PutActionVectors(ctx context.Context, rows []store.ActionVector) error {
	if err := store.ValidateActionVectors(rows); err != nil {
		return err
	}
	return s.inWriteTx(ctx, func(q sqldb.Querier) error {
		var buf []byte
		for lo := 0; lo < len(rows); lo += s.chunkSize {
			buf = appendActionVectors(buf[:0], rows[lo:min(lo+s.chunkSize, len(rows))])
			if _, err := q.ExecContext(ctx, putActionVectors, string(buf)); err != nil {
				return s.wrapErr("put action vectors", err)
			}
		}
		return nil
	})
}

// appendActionVectors appends rows as a JSON array of [organization,
// variant, shop, date, domain, qty, discount, confidence, snapshot] arrays.
func appendActionVectors(dst []byte, rows []store.ActionVector) []byte {
	return appendArray(dst, rows, func(dst []byte, v store.ActionVector) []byte {
		dst = appendJSONStrings(dst, []string{v.OrganizationID, v.VariantID, v.ShopID, formatDate(v.SnapshotDate), string(v.Domain)})
		dst = append(dst[:len(dst)-1], ',') // the array goes on
		dst = appendJSONInt(dst, v.RecommendedQty)
		dst = append(dst, ',')
		dst = appendJSONFloat(dst, v.RecommendedDiscountPct)
		dst = append(dst, ',')
		dst = appendJSONFloat(dst, v.Confidence)
		dst = append(dst, ',')
		dst = appendJSONString(dst, string(v.Snapshot))
		return append(dst, ']')
	})
}

// ListTasks returns the tasks of f.OrganizationID that match f, ordered by
// domain, shop, variant and creation time (strings in byte order).
func (s *Store) ListTasks(ctx context.Context, f store.TaskFilter) ([]store.Task, error) {
	if err := store.ValidateTaskFilter(f); err != nil {
		return nil, err
	}
	var statuses any
	if len(f.Statuses) > 0 {
		statuses = string(appendJSONStrings(nil, f.Statuses))
	}
	tasks, err := sqldb.Collect(ctx, s.db.Querier(), scanTask, listTasks, f.OrganizationID, f.WorkflowRunID, statuses)
	if err != nil {
		return nil, s.wrapErr("list tasks", err)
	}
	for i := range tasks {
		tasks[i].OrganizationID = f.OrganizationID
	}
	return tasks, nil
}

func scanTask(rows sqldb.Row) (store.Task, error) {
	var (
		t                        store.Task
		id                       []byte
		snapshot, created, upd   string
		domain, status, priority string
		evidence                 string
	)
	// Nullable columns scan into the pointer fields: NULL leaves them nil.
	if err := rows.Scan(&id, &domain, &t.ShopID, &t.VariantID, &status, &priority, &t.WorkflowRunID, &snapshot,
		&t.RecommendedQty, &t.RecommendedDiscountPct, &t.Confidence, &evidence, &created, &upd); err != nil {
		return t, err
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
	t.Domain, t.Status, t.Priority = store.Domain(domain), store.Status(status), store.Priority(priority)
	t.Evidence = json.RawMessage(evidence)
	return t, nil
}

// SetTaskStatus moves a task of the organization to status st and stamps
// updated_at. It returns store.ErrTaskNotFound if the organization has
// no such task, and store.ErrOpenTaskExists if reopening it would give
// its key a second open task. A transient failure, such as a deadlock or
// a busy database, is retried a few times, unless the Store runs in the
// caller's transaction.
func (s *Store) SetTaskStatus(ctx context.Context, organizationID string, id uuid.UUID, st store.Status) error {
	if err := store.ValidateStatusChange(organizationID, st); err != nil {
		return err
	}
	return sqldb.Retry(ctx, func() error {
		return s.inWriteTx(ctx, func(q sqldb.Querier) error {
			n, err := sqldb.Exec(ctx, q, setTaskStatus, string(st), formatTimestamp(s.now()), organizationID, id[:])
			switch {
			case isUniqueViolation(err):
				return fmt.Errorf("sqlite: set task %s to %s: %w: %w", id, st, store.ErrOpenTaskExists, err)
			case n == 0 && err == nil:
				return fmt.Errorf("sqlite: task %s: %w", id, store.ErrTaskNotFound)
			}
			return s.wrapErr("set task status", err)
		})
	})
}

// SweepTasks implements store.TaskStore.
func (s *Store) SweepTasks(ctx context.Context, sw *store.Sweep) (int, error) {
	var n int
	err := s.inWriteTx(ctx, func(q sqldb.Querier) error {
		if sw.DryRun {
			return s.wrapErr("count sweep", on(q, "SELECT", "tasks", 0).QueryRowContext(ctx, countSweep, sw.OrganizationID, sw.WorkflowRunID).Scan(&n))
		}
		var err error
		n, err = sqldb.Exec(ctx, on(q, "UPDATE", "tasks", 0), sweepRun, sw.OrganizationID, sw.WorkflowRunID, formatTimestamp(sw.Now))
		return s.wrapErr("sweep run", err)
	})
	return n, err
}
