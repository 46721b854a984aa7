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
