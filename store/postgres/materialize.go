package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"iter"
	"slices"

	"github.com/google/uuid"

	"github.com/actionvector/tasks/internal/sqldb"
	"github.com/actionvector/tasks/store"
)

// MaterializeTasks implements store.TaskStore: one statement per chunk
// (a batch that fits in one is one statement), inside a transaction, and a
// few more with the batch's options. A lone statement would commit on its
// own even when the caller's context ended while it ran; in a transaction,
// only a call whose work is done commits.
func (s *Store) MaterializeTasks(ctx context.Context, b *store.Batch) (store.Outcome, error) {
	if b.Len() == 0 {
		return store.Outcome{}, nil
	}
	var total store.Outcome
	err := s.inTx(ctx, func(q sqldb.Querier) error {
		citus, err := s.distributed(ctx, q)
		if err != nil {
			return err
		}
		for chunk, place := range chunks(b, s.chunkSize) {
			out, err := s.materializeChunk(ctx, q, chunk, citus)
			if err != nil {
				return s.wrapErr("materialize tasks", err)
			}
			total = total.Add(out, place)
		}
		if b.RetireStale {
			// Before COMMIT, under the locks of the retirement: a refusal
			// rolls every chunk back.
			return b.CheckRetireBudget(total.Open, total.Retired)
		}
		return nil
	})
	if err != nil {
		return store.Outcome{}, err
	}
	return total, nil
}

// chunks splits b into the batches of at most maxCandidates candidates
// (one at least) its statements take, in the lock order: runs of pairs in
// (variant, shop) order with every domain while a pair's candidates fit,
// else one pair's domains a few at a time. Each comes with place, which
// maps a candidate of the chunk to its place in b. A batch that fits is
// its own one chunk.
func chunks(b *store.Batch, maxCandidates int) iter.Seq2[*store.Batch, func(int) int] {
	return func(yield func(*store.Batch, func(int) int) bool) {
		if b.Len() <= maxCandidates {
			yield(b, func(i int) int { return i })
			return
		}
		np, nd := len(b.Pairs), len(b.Domains)
		// sub is the chunk of the domains [d0, d1) of the pairs at places,
		// which keeps them in the lock order rather than the Batch's.
		sub := func(d0, d1 int, places []int) (*store.Batch, func(int) int) {
			c := *b
			c.Domains = b.Domains[d0:d1]
			c.Pairs = make([]store.Pair, len(places))
			ids := make([]uuid.UUID, 0, (d1-d0)*len(places))
			for j, i := range places {
				c.Pairs[j] = b.Pairs[i]
			}
			for d := d0; d < d1; d++ {
				for _, i := range places {
					ids = append(ids, b.ProposedIDs.At(d*np+i))
				}
			}
			c.ProposedIDs = store.IDList(ids...)
			n := len(places)
			return &c, func(i int) int { return (d0+i/n)*np + places[i%n] }
		}
		order := pairsByVariant(b)
		if perChunk := maxCandidates / nd; perChunk >= 1 {
			for k := 0; k < np; k += perChunk {
				if !yield(sub(0, nd, order[k:min(k+perChunk, np)])) {
					return
				}
			}
			return
		}
		step := max(maxCandidates, 1)
		for j := range order {
			for d := 0; d < nd; d += step {
				if !yield(sub(d, min(d+step, nd), order[j:j+1])) {
					return
				}
			}
		}
	}
}

// materializeChunk runs one chunk: a dry run only reads (preview.sql); a
// call writes with one statement on one server (materialize.sql, in the
// variant of its options). On Citus, which cannot route an INSERT inside a
// CTE, a call locks the candidates' open tasks first when it retires stale
// ones (lock_stale.sql), upserts (upsert_tasks.sql), counts
// (count_outcomes.sql), retires (retire_stale.sql), and lists its outcomes
// last when asked (preview.sql).
func (s *Store) materializeChunk(ctx context.Context, q sqldb.Querier, b *store.Batch, citus bool) (out store.Outcome, err error) {
	args := materializeArgs(b)
	switch {
	case b.DryRun:
		return s.preview(ctx, q, b, args)
	case !citus:
		return s.materialize(ctx, q, b, args)
	}
	var locked [][16]byte // the OPEN tasks of the candidates, which alone may be retired
	if b.RetireStale {
		if locked, err = sqldb.Collect(ctx, s.on(q, "SELECT", b.Len()), scanID, s.sql.lockStale, args...); err != nil {
			return out, err
		}
	}
	var eligible, upserted, created int
	if upserted, err = sqldb.Exec(ctx, s.on(q, "INSERT", b.Len()), s.sql.upsertTasks, args...); err == nil {
		err = s.on(q, "SELECT", b.Len()).QueryRowContext(ctx, s.sql.countOutcomes, args...).
			Scan(&out.Unmatched, &out.Suppressed, &out.Skipped, &eligible, &created)
	}
	if err != nil {
		return out, err
	}
	if out, err = out.Upserted(eligible, upserted, created); err != nil {
		return out, err
	}
	var retired []store.CandidateResult
	if b.RetireStale {
		if retired, err = sqldb.Collect(ctx, s.on(q, "UPDATE", b.Len()), scanRetired, s.sql.retireStale, append(args, locked)...); err != nil {
			return out, err
		}
		out.Retired, out.Open = len(retired), len(locked)
	}
	if b.ReturnOutcomes {
		listed, err := sqldb.Collect(ctx, s.on(q, "SELECT", b.Len()), scanPreview, s.sql.previewRows, args...)
		if err != nil {
			return out, err
		}
		out.Candidates = written(b, listed, retired)
	}
	return out, nil
}

// materialize runs the one statement of a chunk on one server.
func (s *Store) materialize(ctx context.Context, q sqldb.Querier, b *store.Batch, args []any) (out store.Outcome, err error) {
	query := s.sql.materialize[btoi(b.RetireStale)][btoi(b.ReturnOutcomes)]
	if !b.ReturnOutcomes {
		var eligible, written, created int
		err := s.on(q, "INSERT", b.Len()).QueryRowContext(ctx, query, args...).
			Scan(&out.Unmatched, &out.Suppressed, &out.Skipped, &eligible, &written, &created, &out.Retired, &out.Open)
		if err != nil {
			return out, err
		}
		return out.Upserted(eligible, written, created)
	}
	rows, err := sqldb.Collect(ctx, s.on(q, "INSERT", b.Len()), scanListed, query, args...)
	if err != nil {
		return out, err
	}
	var listed []previewRow
	byOrd := make(map[int]int) // an eligible candidate's place in the batch -> its index in listed
	open := 0
	for _, r := range rows {
		if r.outcome == "open" {
			open = r.ord
			continue
		}
		if r.outcome == "written" || r.outcome == "retired" {
			continue
		}
		c := previewRow{CandidateResult: store.CandidateResult{Index: r.ord - 1, Outcome: store.OutcomeKind(r.outcome)}}
		if r.outcome == "eligible" {
			c.Outcome = store.OutcomeUpdated
			byOrd[c.Index] = len(listed)
		}
		listed = append(listed, c)
	}
	// The writes return each task with its key, not its candidate's place:
	// find the place from the key.
	places := pairPlaces(b)
	var retired []store.CandidateResult
	for _, r := range rows {
		if r.outcome != "written" && r.outcome != "retired" {
			continue // listed above, or the count of OPEN tasks
		}
		di, pi := slices.Index(b.Domains, store.Domain(r.domain)), places[store.Pair{ShopID: r.shop, VariantID: r.variant}]
		if di < 0 || pi == 0 {
			return out, fmt.Errorf("task %s of (%s, %s, %s) is not a candidate of the chunk", r.id, r.domain, r.shop, r.variant)
		}
		index := di*len(b.Pairs) + pi - 1
		if r.outcome == "retired" {
			retired = append(retired, store.CandidateResult{Index: index, TaskID: r.id, Retired: true})
			continue
		}
		i, ok := byOrd[index]
		if !ok {
			return out, fmt.Errorf("the upsert wrote task %s of (%s, %s, %s), not an eligible candidate", r.id, r.domain, r.shop, r.variant)
		}
		listed[i].TaskID = r.id
		delete(byOrd, index)
	}
	if len(byOrd) > 0 {
		return out, fmt.Errorf("%d eligible candidates wrote no task", len(byOrd))
	}
	out.Open = open
	return out.Tally(written(b, listed, retired), b.Len())
}

// listedRow is a row of materialize.sql's list variant: a candidate with
// an action vector (ord and outcome), a task written or retired (id and
// key), or the count of the candidates' OPEN tasks (outcome "open", the
// count in ord).
type listedRow struct {
	ord                   int
	outcome               string
	id                    uuid.UUID
	domain, shop, variant string
}

func scanListed(rows sqldb.Row) (listedRow, error) {
	var r listedRow
	var ord sql.NullInt64
	var id *uuid.UUID
	var domain, shop, variant sql.NullString
	if err := rows.Scan(&ord, &r.outcome, &id, &domain, &shop, &variant); err != nil {
		return r, err
	}
	r.ord, r.domain, r.shop, r.variant = int(ord.Int64), domain.String, shop.String, variant.String
	if id != nil {
		r.id = *id
	}
	return r, nil
}

// pairPlaces maps each pair of b to its place in the batch (1-based).
func pairPlaces(b *store.Batch) map[store.Pair]int {
	places := make(map[store.Pair]int, len(b.Pairs))
	for i, p := range b.Pairs {
		places[p] = i + 1
	}
	return places
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// preview counts, or lists, what a dry run of the chunk would do.
func (s *Store) preview(ctx context.Context, q sqldb.Querier, b *store.Batch, args []any) (out store.Outcome, err error) {
	if !b.ReturnOutcomes {
		var stale, open int
		err = s.on(q, "SELECT", b.Len()).QueryRowContext(ctx, s.sql.previewCounts, args...).
			Scan(&out.Unmatched, &out.Suppressed, &out.Skipped, &out.Created, &out.Updated, &stale, &open)
		if b.RetireStale {
			out.Retired, out.Open = stale, open
		}
		return out, err
	}
	listed, err := sqldb.Collect(ctx, s.on(q, "SELECT", b.Len()), scanPreview, s.sql.previewRows, args...)
	if err != nil {
		return out, err
	}
	var retired []store.CandidateResult // the OPEN tasks of candidates not eligible
	for _, c := range listed {
		if b.RetireStale && c.open {
			out.Open++
			if c.Outcome != store.OutcomeUpdated {
				retired = append(retired, store.CandidateResult{Index: c.Index, TaskID: c.TaskID, Retired: true})
			}
		}
	}
	return out.Tally(written(b, listed, retired), b.Len())
}

// written lists what a chunk did, or a dry run would do: the candidates of
// preview.sql (run after the writes) settled as created or updated, and the
// retired ones.
func written(b *store.Batch, listed []previewRow, retired []store.CandidateResult) []store.CandidateResult {
	out := make([]store.CandidateResult, 0, len(listed)+len(retired))
	for _, c := range listed {
		if c.Outcome == store.OutcomeUnmatched {
			continue // listed for an OPEN task, which a call retires or keeps: see retired
		}
		out = append(out, b.Settle(c.CandidateResult))
	}
	return store.MarkRetired(out, retired)
}

// previewRow is a row of preview.sql: an eligible candidate reads as
// updated, and whether its open task is OPEN (not IN_PROGRESS).
type previewRow struct {
	store.CandidateResult
	open bool
}

func scanPreview(rows sqldb.Row) (previewRow, error) {
	var r previewRow
	var ord int
	var outcome string
	var id *uuid.UUID
	var open *bool
	if err := rows.Scan(&ord, &outcome, &id, &open); err != nil {
		return r, err
	}
	r.Index = ord - 1
	r.Outcome = store.OutcomeKind(outcome)
	if outcome == "eligible" {
		r.Outcome = store.OutcomeUpdated
	}
	if id != nil {
		r.TaskID = *id
	}
	r.open = open != nil && *open
	return r, nil
}

func scanID(rows sqldb.Row) (id [16]byte, err error) {
	var u uuid.UUID
	err = rows.Scan(&u)
	return u, err
}

// scanRetired reads a row of retire_stale.sql.
func scanRetired(rows sqldb.Row) (store.CandidateResult, error) {
	var r store.CandidateResult
	var ord int
	err := rows.Scan(&ord, &r.TaskID)
	r.Index, r.Retired = ord-1, true
	return r, err
}

// materializeArgs returns the parameters $1 to $11 of the materialize
// statement for b. The pairs go in the lock order, (variant, shop) in Go's
// byte order, the open-key index's (under the C collation) and close to the
// action-vector primary key's under any other, each with its 1-based place
// in the batch ($10), from which the statement places its candidates. The
// statement reads, locks and writes in the order the pairs come, and the
// domains ($6) in theirs, ascending.
func materializeArgs(b *store.Batch) []any {
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
	var snapshot any // NULL: each domain's latest
	if !b.SnapshotDate.IsZero() {
		snapshot = b.SnapshotDate
	}
	return []any{b.OrganizationID, b.WorkflowRunID, b.MinConfidence, string(b.Priority), b.Now,
		domains, shops, variants, uuidArray(b.ProposedIDs), places, snapshot}
}

// uuidArray hands ids to pgx as [16]byte values, which it encodes in
// binary, rather than as the strings uuid.UUID's driver.Valuer returns.
func uuidArray(ids store.IDs) [][16]byte {
	out := make([][16]byte, ids.Len())
	for i := range out {
		out[i] = ids.At(i)
	}
	return out
}

// pairsByVariant returns the places in b.Pairs of the pairs sorted by
// (VariantID, ShopID), the order of the action-vector primary key: looked
// up in this order, neighbouring pairs read neighbouring rows.
func pairsByVariant(b *store.Batch) []int {
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

// on returns q, whose statements get the span of a statement of command
// operation on the tasks table over batch candidates or rows.
func (s *Store) on(q sqldb.Querier, operation string, batch int) sqldb.Querier {
	return sqldb.Traced(q, sqldb.Statement{System: "postgresql", Operation: operation, Collection: s.names.TasksTable, BatchSize: batch})
}
