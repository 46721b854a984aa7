package main

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// The batch baseline is what a competent engineer writes without this
// library, in one transaction: read the latest action vectors of the
// perimeter to the client with one query (the pairs as an array), classify
// them in Go, bulk-load the eligible ones into a temporary table (COPY on
// PostgreSQL, a prepared multi-row INSERT on SQLite) and upsert them into
// the tasks table with one statement. Each database implements batcher.
type batcher interface {
	Batch(ctx context.Context, req taskcreate.Request, now time.Time) (store.Outcome, error)
}

// vectorRow is an action vector as the batch baseline reads it.
type vectorRow struct {
	variant, shop, domain string
	date                  any // the database's own representation, handed back as it came
	qty                   sql.NullInt64
	discount, confidence  sql.NullFloat64
	evidence              string
}

// batchTask is an eligible candidate's task, as the baseline writes it.
type batchTask struct {
	id uuid.UUID
	vectorRow
}

// batchInput is a request as the baseline sends it: its domains and pairs
// deduplicated, the pairs as two parallel arrays.
type batchInput struct {
	domains            []string
	variants, shops    []string
	candidates         int
	minConfidence      float64
	org, run, priority string
}

func newBatchInput(req taskcreate.Request) batchInput {
	in := batchInput{org: req.OrganizationID, run: req.WorkflowRunID, minConfidence: req.MinConfidence,
		priority: string(taskcreate.PriorityMedium)}
	for _, d := range slices.Compact(slices.Sorted(slices.Values(req.Domains))) {
		in.domains = append(in.domains, string(d))
	}
	pairs := slices.SortedFunc(slices.Values(req.Perimeter), func(a, b taskcreate.Pair) int {
		return cmp.Or(cmp.Compare(a.VariantID, b.VariantID), cmp.Compare(a.ShopID, b.ShopID))
	})
	pairs = slices.Compact(pairs)
	in.variants, in.shops = make([]string, len(pairs)), make([]string, len(pairs))
	for i, p := range pairs {
		in.variants[i], in.shops[i] = p.VariantID, p.ShopID
	}
	in.candidates = len(pairs) * len(in.domains)
	return in
}

// classify applies the rules to the rows read, as the naive baseline does,
// and returns the tasks to write in key order and the counts of the
// others; a candidate without a row is unmatched.
func (in batchInput) classify(rows []vectorRow) ([]batchTask, store.Outcome, error) {
	out := store.Outcome{Unmatched: in.candidates - len(rows)}
	tasks := make([]batchTask, 0, len(rows))
	for _, r := range rows {
		switch {
		case in.minConfidence > 0 && r.confidence.Valid && r.confidence.Float64 < in.minConfidence:
			out.Suppressed++
		case r.domain == string(taskcreate.Markdown) && (!r.discount.Valid || r.discount.Float64 <= 0),
			r.domain != string(taskcreate.Markdown) && (!r.qty.Valid || r.qty.Int64 <= 0):
			out.Skipped++
		default:
			id, err := uuid.NewV7()
			if err != nil {
				return nil, out, err
			}
			tasks = append(tasks, batchTask{id: id, vectorRow: r})
		}
	}
	// Key order, as every writer of the table should, so that concurrent
	// calls lock in one order.
	slices.SortFunc(tasks, func(a, b batchTask) int {
		return cmp.Or(cmp.Compare(a.domain, b.domain), cmp.Compare(a.shop, b.shop), cmp.Compare(a.variant, b.variant))
	})
	return tasks, out, nil
}

// batchTx is the batch baseline's transaction on one database.
type batchTx interface {
	// read returns the latest action vectors of the candidates of in.
	read(ctx context.Context, in batchInput) ([]vectorRow, error)
	// write stages tasks in a temporary table and upserts them into the
	// tasks table with one statement, and returns how many it created.
	write(ctx context.Context, in batchInput, tasks []batchTask) (created int, err error)
}

// batch reads the candidates of in on tx, classifies them, and writes the
// eligible ones.
func (in batchInput) batch(ctx context.Context, tx batchTx) (store.Outcome, error) {
	rows, err := tx.read(ctx, in)
	if err != nil {
		return store.Outcome{}, err
	}
	tasks, out, err := in.classify(rows)
	if err != nil {
		return store.Outcome{}, err
	}
	created, err := tx.write(ctx, in, tasks)
	if err != nil {
		return store.Outcome{}, err
	}
	out.Created, out.Updated = created, len(tasks)-created
	return out, nil
}

// values are the columns of t's task, in the order of taskColumns, with
// its id and timestamps as the database takes them.
func (in batchInput) values(t batchTask, id, now any) []any {
	return []any{id, in.org, "ACTION_VECTOR", t.domain, t.shop, t.variant, "OPEN", in.priority, in.run,
		t.date, t.qty, t.discount, t.confidence, t.evidence, now, now}
}

// vectorRows are the rows of the baseline's read, from database/sql or
// from pgx.
type vectorRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// scanVectors reads the rows of the baseline's read, the snapshot date as
// the driver gives it: a D.
func scanVectors[D any](rows vectorRows) ([]vectorRow, error) {
	var read []vectorRow
	for rows.Next() {
		var r vectorRow
		var date D
		if err := rows.Scan(&r.variant, &r.shop, &r.domain, &date, &r.qty, &r.discount, &r.confidence, &r.evidence); err != nil {
			return nil, err
		}
		r.date = date
		read = append(read, r)
	}
	return read, rows.Err()
}
