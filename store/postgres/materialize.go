package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/actionvector/tasks/internal/sqldb"
	"github.com/actionvector/tasks/taskcreate"
)

// MaterializeTasks implements taskcreate.TaskStore: one statement per chunk
// (a batch that fits in one is one statement), inside a transaction. A lone
// statement would commit on its own even when the caller's context ended
// while it ran; in a transaction, only a call whose work is done commits.
func (s *Store) MaterializeTasks(ctx context.Context, b *taskcreate.Batch) (taskcreate.Outcome, error) {
	if b.Len() == 0 {
		return taskcreate.Outcome{}, nil
	}
	var total taskcreate.Outcome
	err := s.inTx(ctx, func(q sqldb.Querier) error {
		for _, chunk := range b.Chunks(s.chunkSize) {
			out, err := s.materializeChunk(ctx, q, chunk)
			if err != nil {
				return s.wrapErr("materialize tasks", err)
			}
			total = total.Add(out)
		}
		return nil
	})
	if err != nil {
		return taskcreate.Outcome{}, err
	}
	return total, nil
}

func (s *Store) materializeChunk(ctx context.Context, q sqldb.Querier, b *taskcreate.Batch) (out taskcreate.Outcome, err error) {
	var eligible, written, created int
	err = q.QueryRowContext(ctx, s.sql.materialize, materializeArgs(b)...).
		Scan(&out.Unmatched, &out.Suppressed, &out.Skipped, &eligible, &written, &created)
	if err != nil {
		return taskcreate.Outcome{}, err // wrapped by the caller, which knows whether it commits
	}
	if written != eligible || created > eligible {
		return taskcreate.Outcome{}, fmt.Errorf("upsert wrote %d tasks (%d created) for %d eligible candidates", written, created, eligible)
	}
	out.Created, out.Updated = created, eligible-created
	return out, nil
}

// materializeArgs returns the parameters $1 to $10 of the materialize
// statement for b. The pairs go in the order of the action-vector primary
// key, (variant, shop), in which the statement looks them up, each with its
// 1-based place in the batch ($10), which places its candidates in key order.
// The order is Go's byte order, the index's under the C collation and close
// to it under others; only how near consecutive lookups fall depends on it.
func materializeArgs(b *taskcreate.Batch) []any {
	domains := make([]string, len(b.Domains))
	for i, d := range b.Domains {
		domains[i] = string(d)
	}
	shops := make([]string, len(b.Pairs))
	variants := make([]string, len(b.Pairs))
	places := make([]int32, len(b.Pairs)) // $10 is int[]: 4 bytes each
	for j, i := range pairsByVariant(b) {
		shops[j], variants[j], places[j] = b.Pairs[i].ShopID, b.Pairs[i].VariantID, int32(i+1)
	}
	return []any{b.OrganizationID, b.WorkflowRunID, b.MinConfidence, string(b.Priority), b.Now,
		domains, shops, variants, uuidArray(b.ProposedIDs), places}
}

// uuidArray hands ids to pgx as [16]byte values, which it encodes in
// binary, rather than as the strings uuid.UUID's driver.Valuer returns.
func uuidArray(ids []uuid.UUID) [][16]byte {
	out := make([][16]byte, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// pairsByVariant returns the places in b.Pairs of the pairs sorted by
// (VariantID, ShopID), the order of the action-vector primary key: looked
// up in this order, neighbouring pairs read neighbouring rows.
func pairsByVariant(b *taskcreate.Batch) []int {
	order := make([]int, len(b.Pairs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		p, q := b.Pairs[i], b.Pairs[j]
		if c := cmp.Compare(p.VariantID, q.VariantID); c != 0 {
			return c
		}
		return cmp.Compare(p.ShopID, q.ShopID)
	})
	return order
}
