package main

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// naiveSQL is the SQL of the naive baseline on one database, with the
// columns and conflict target of the adapter's tables.
type naiveSQL struct {
	// latest: (organization, domain) -> the latest snapshot date, or NULL.
	latest string
	// vector: (organization, variant, shop, date, domain) -> qty, discount,
	// confidence, evidence of the action vector.
	vector string
	// upsert: (id, organization, domain, shop, variant, priority, run,
	// date, qty, discount, confidence, evidence, now) -> the task's id.
	upsert string
	// now is how the database takes a timestamp.
	now func(time.Time) any
	// id is how the database takes a task id (the text form, or 16 bytes).
	id func(uuid.UUID) any
}

// runNaive is the obvious hand-written CreateTasks: in one transaction, for
// each candidate in key order, look up its action vector, classify it in
// Go and upsert the eligible ones one statement at a time. The latest
// snapshot date is looked up once per domain. The statements are prepared
// once, as a careful hand-written version would.
func runNaive(ctx context.Context, db *sql.DB, q naiveSQL, req taskcreate.Request, now time.Time) (out store.Outcome, err error) {
	domains := slices.Compact(slices.Sorted(slices.Values(req.Domains)))
	pairs := slices.SortedFunc(slices.Values(req.Perimeter), func(a, b taskcreate.Pair) int {
		return cmp.Or(cmp.Compare(a.ShopID, b.ShopID), cmp.Compare(a.VariantID, b.VariantID))
	})
	pairs = slices.Compact(pairs)
	stamp := q.now(now.UTC().Truncate(time.Microsecond))

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return out, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var stmts [3]*sql.Stmt
	for i, text := range []string{q.latest, q.vector, q.upsert} {
		if stmts[i], err = tx.PrepareContext(ctx, text); err != nil {
			return out, fmt.Errorf("naive: prepare: %w", err)
		}
		defer stmts[i].Close()
	}
	latestStmt, vectorStmt, upsertStmt := stmts[0], stmts[1], stmts[2]
	for _, d := range domains {
		// The database's own representation of a date (time.Time or
		// text), handed back to it as it came.
		var latest any
		if err := latestStmt.QueryRowContext(ctx, req.OrganizationID, string(d)).Scan(&latest); err != nil {
			return out, fmt.Errorf("naive: latest snapshot: %w", err)
		}
		for _, p := range pairs {
			if latest == nil {
				out.Unmatched++
				continue
			}
			var (
				qty                  sql.NullInt64
				discount, confidence sql.NullFloat64
				evidence             string
			)
			err := vectorStmt.QueryRowContext(ctx, req.OrganizationID, p.VariantID, p.ShopID, latest, string(d)).
				Scan(&qty, &discount, &confidence, &evidence)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				out.Unmatched++
				continue
			case err != nil:
				return out, fmt.Errorf("naive: action vector: %w", err)
			case req.MinConfidence > 0 && confidence.Valid && confidence.Float64 < req.MinConfidence:
				out.Suppressed++
				continue
			case d == taskcreate.Markdown && (!discount.Valid || discount.Float64 <= 0),
				d != taskcreate.Markdown && (!qty.Valid || qty.Int64 <= 0):
				out.Skipped++
				continue
			}
			id, err := uuid.NewV7()
			if err != nil {
				return out, err
			}
			var kept []byte
			if err := upsertStmt.QueryRowContext(ctx, q.id(id), req.OrganizationID, string(d), p.ShopID, p.VariantID,
				string(taskcreate.PriorityMedium), req.WorkflowRunID, latest, qty, discount, confidence, evidence, stamp,
			).Scan(&kept); err != nil {
				return out, fmt.Errorf("naive: upsert: %w", err)
			}
			if string(kept) == id.String() || bytes.Equal(kept, id[:]) {
				out.Created++
			} else {
				out.Updated++
			}
		}
	}
	return out, tx.Commit()
}
