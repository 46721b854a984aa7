package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/actionvector/tasks/internal/sqldb"
	"github.com/actionvector/tasks/store"
)

// PutActionVectors inserts rows, replacing those with the same primary key
// (organization, variant, shop, snapshot date, domain; the last of several
// wins), in one statement and one transaction. Invalid rows are reported as a
// *store.ValidationError and nothing is written.
func (s *Store) PutActionVectors(ctx context.Context, rows []store.ActionVector) error {
	if err := store.ValidateActionVectors(rows); err != nil {
		return err
	}
	rows = lastByPrimaryKey(rows)
	n := len(rows)
	var (
		orgs, variants, shops, domains, snapshots = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		dates                                     = make([]time.Time, n)
		qtys                                      = make([]*int32, n)
		discounts, confidences                    = make([]*float64, n), make([]*float64, n)
	)
	for i, v := range rows {
		orgs[i], variants[i], shops[i], domains[i] = v.OrganizationID, v.VariantID, v.ShopID, string(v.Domain)
		dates[i] = store.DateOf(v.SnapshotDate)
		if v.RecommendedQty != nil {
			q := int32(*v.RecommendedQty) // validated to fit
			qtys[i] = &q
		}
		discounts[i], confidences[i] = v.RecommendedDiscountPct, v.Confidence
		snapshots[i] = string(v.Snapshot)
	}
	return s.inTx(ctx, func(q sqldb.Querier) error {
		_, err := q.ExecContext(ctx, s.sql.putActionVectors,
			orgs, variants, shops, dates, domains, qtys, discounts, confidences, snapshots)
		if err != nil {
			return s.wrapErr("put action vectors", err)
		}
		return nil
	})
}

// lastByPrimaryKey drops every row that a later row with the same primary
// key replaces, keeping the order of the others.
func lastByPrimaryKey(rows []store.ActionVector) []store.ActionVector {
	type key struct {
		org, variant, shop string
		date               time.Time
		domain             store.Domain
	}
	last := make(map[key]int, len(rows))
	for i, v := range rows {
		last[key{v.OrganizationID, v.VariantID, v.ShopID, store.DateOf(v.SnapshotDate), v.Domain}] = i
	}
	if len(last) == len(rows) {
		return rows
	}
	out := make([]store.ActionVector, 0, len(last))
	for i, v := range rows {
		if last[key{v.OrganizationID, v.VariantID, v.ShopID, store.DateOf(v.SnapshotDate), v.Domain}] == i {
			out = append(out, v)
		}
	}
	return out
}

// ListTasks returns the tasks of f.OrganizationID that match f, ordered by
// domain, shop, variant (strings in byte order) and creation time.
func (s *Store) ListTasks(ctx context.Context, f store.TaskFilter) ([]store.Task, error) {
	if err := store.ValidateTaskFilter(f); err != nil {
		return nil, err
	}
	statuses := make([]string, len(f.Statuses))
	for i, st := range f.Statuses {
		statuses[i] = string(st)
	}
	tasks, err := sqldb.Collect(ctx, s.db.Querier(), scanTask, s.sql.listTasks, f.OrganizationID, f.WorkflowRunID, statuses)
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
		domain, status, priority string
		evidence                 []byte
	)
	// Nullable columns scan into the pointer fields: NULL leaves them nil.
	if err := rows.Scan(&t.ID, &domain, &t.ShopID, &t.VariantID, &status, &priority, &t.WorkflowRunID, &t.SnapshotDate,
		&t.RecommendedQty, &t.RecommendedDiscountPct, &t.Confidence, &evidence, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return t, err
	}
	t.Domain, t.Status, t.Priority = store.Domain(domain), store.Status(status), store.Priority(priority)
	t.SnapshotDate = store.DateOf(t.SnapshotDate)
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	t.Evidence = evidence
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
	now := s.now().UTC().Truncate(time.Microsecond)
	return sqldb.Retry(ctx, func() error {
		return s.inTx(ctx, func(q sqldb.Querier) error {
			n, err := sqldb.Exec(ctx, q, s.sql.setTaskStatus, string(st), now, organizationID, [16]byte(id))
			switch {
			case hasCode(err, uniqueViolation):
				return fmt.Errorf("postgres: set task %s to %s: %w: %w", id, st, store.ErrOpenTaskExists, err)
			case n == 0 && err == nil:
				return fmt.Errorf("postgres: task %s: %w", id, store.ErrTaskNotFound)
			}
			return s.wrapErr("set task status", err)
		})
	})
}

// SweepTasks implements store.TaskStore.
func (s *Store) SweepTasks(ctx context.Context, sw *store.Sweep) (int, error) {
	var n int
	err := s.inTx(ctx, func(q sqldb.Querier) error {
		if sw.DryRun {
			return s.wrapErr("count sweep", s.on(q, "SELECT", 0).QueryRowContext(ctx, s.sql.countSweep, sw.OrganizationID, sw.WorkflowRunID).Scan(&n))
		}
		var err error
		n, err = sqldb.Exec(ctx, s.on(q, "UPDATE", 0), s.sql.sweepRun, sw.OrganizationID, sw.WorkflowRunID, sw.Now)
		return s.wrapErr("sweep run", err)
	})
	return n, err
}
