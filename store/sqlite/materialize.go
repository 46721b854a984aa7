package sqlite

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/actionvector/tasks/internal/sqldb"
	"github.com/actionvector/tasks/store"
)

// MaterializeTasks implements store.TaskStore. A batch is classified
// into a temporary table, a chunk of pairs per statement; then, unless the
// batch is a dry run, its eligible candidates are upserted into tasks in
// one statement and, with RetireStale, the stale ones retired a chunk per
// statement; one more statement counts the outcomes. A constant number of
// statements per chunk, never one per candidate; candidates the table does
// not hold are unmatched. SQLite has one writer at a time, so the locks of
// a call are taken by BEGIN IMMEDIATE at once.
func (s *Store) MaterializeTasks(ctx context.Context, b *store.Batch) (store.Outcome, error) {
	if b.Len() == 0 {
		return store.Outcome{}, nil
	}
	c := &call{b: b, domains: string(appendJSONStrings(nil, b.Domains))}
	if !b.SnapshotDate.IsZero() {
		c.snapshot = formatDate(b.SnapshotDate)
	}
	var out store.Outcome
	err := s.inWriteTx(ctx, func(q sqldb.Querier) (err error) {
		out, err = s.materialize(ctx, q, c)
		return err
	})
	if err != nil {
		return store.Outcome{}, err
	}
	return out, nil
}

// call is one MaterializeTasks call and the parameters its statements share.
type call struct {
	b        *store.Batch
	domains  string // JSON array
	snapshot any    // the pinned snapshot date, or nil for each domain's latest
}

// chunks yields the batch's pairs as JSON arrays of [shop, variant], at
// most size at a time, with the place of each chunk's first pair.
func (c *call) chunks(size int, yield func(first int, pairs string) error) error {
	var buf []byte
	for lo := 0; lo < len(c.b.Pairs); lo += size {
		buf = appendPairs(buf[:0], c.b.Pairs[lo:min(lo+size, len(c.b.Pairs))])
		if err := yield(lo, string(buf)); err != nil {
			return err
		}
	}
	return nil
}

// appendIDs appends to buf the ids proposed for the candidates of the n
// pairs from first, 16 bytes each, domain by domain: what
// classify_candidates.sql reads as ?9.
func (c *call) appendIDs(buf []byte, first, n int) []byte {
	for d := range c.b.Domains {
		for i := d*len(c.b.Pairs) + first; i < d*len(c.b.Pairs)+first+n; i++ {
			id := c.b.ProposedIDs.At(i)
			buf = append(buf, id[:]...)
		}
	}
	return buf
}

func (s *Store) materialize(ctx context.Context, q sqldb.Querier, c *call) (out store.Outcome, err error) {
	b := c.b
	if _, err := q.ExecContext(ctx, createCandidates); err != nil {
		return out, s.wrapErr("create candidate table", err)
	}
	if _, err := q.ExecContext(ctx, clearCandidates); err != nil {
		return out, s.wrapErr("clear candidates", err)
	}
	var ids []byte
	err = c.chunks(s.chunkSize, func(first int, pairs string) error {
		n := min(s.chunkSize, len(b.Pairs)-first)
		ids = c.appendIDs(ids[:0], first, n)
		_, err := on(q, "INSERT", "actionvector_task_candidate", len(b.Domains)*n).ExecContext(ctx, classifyCandidates,
			b.OrganizationID, b.MinConfidence, c.domains, pairs, first, len(b.Pairs), b.ReturnOutcomes, c.snapshot, ids, n)
		return s.wrapErr("classify candidates", err)
	})
	if err != nil {
		return out, err
	}
	written := -1
	if !b.DryRun {
		if written, err = sqldb.Exec(ctx, on(q, "INSERT", "tasks", b.Len()), upsertTasks, b.OrganizationID, string(b.Priority), b.WorkflowRunID, formatTimestamp(b.Now)); err != nil {
			return out, s.wrapErr("upsert tasks", err)
		}
	}
	var eligible, counted int
	count, args := countOutcomes, []any(nil)
	if b.DryRun {
		count, args = countPreview, []any{b.OrganizationID}
	}
	if err := on(q, "SELECT", "tasks", b.Len()).QueryRowContext(ctx, count, args...).
		Scan(&out.Suppressed, &out.Skipped, &eligible, &counted); err != nil {
		return out, s.wrapErr("count outcomes", err)
	}
	created := counted // the tasks that kept the id proposed for them
	if b.DryRun {
		// counted: the eligible candidates with an open task to update.
		written, created = eligible, eligible-counted
	}
	if out, err = out.Upserted(eligible, written, created); err != nil {
		return out, fmt.Errorf("sqlite: %w", err)
	}
	out.Unmatched = b.Len() - out.Suppressed - out.Skipped - eligible
	var retired []store.CandidateResult
	if b.RetireStale {
		if retired, err = s.retire(ctx, q, c); err != nil {
			return out, err
		}
		out.Retired = len(retired)
		if out.Retired > store.RetireGuardMinimum { // else no budget can refuse: nothing to count
			if out.Open, err = s.openBefore(ctx, q, c, out); err != nil {
				return out, err
			}
			if err := b.CheckRetireBudget(out.Open, out.Retired); err != nil {
				return out, err // before COMMIT: the call rolls back
			}
		}
	}
	if b.ReturnOutcomes {
		if out.Candidates, err = s.listOutcomes(ctx, q, c, retired); err != nil {
			return out, err
		}
	}
	if _, err := q.ExecContext(ctx, clearCandidates); err != nil {
		return out, s.wrapErr("clear candidates", err)
	}
	return out, nil
}

// retire dismisses the stale tasks of the batch, or finds them in a dry
// run, and returns them as candidates. The classified candidates must be
// in the candidate table.
func (s *Store) retire(ctx context.Context, q sqldb.Querier, c *call) ([]store.CandidateResult, error) {
	b := c.b
	query, op := retireStale, "UPDATE"
	if b.DryRun {
		query, op = openTasks, "SELECT"
	}
	var places map[taskKey]int // made when the first task is found
	var retired []store.CandidateResult
	err := c.chunks(s.chunkSize, func(first int, pairs string) error {
		rows, err := sqldb.Collect(ctx, on(q, op, "tasks", 0), scanKeyedTask, query,
			b.OrganizationID, b.WorkflowRunID, formatTimestamp(b.Now), c.domains, pairs, first, len(b.Pairs))
		if err != nil {
			return s.wrapErr("retire stale tasks", err)
		}
		if len(rows) > 0 && places == nil {
			places = candidatePlaces(b)
		}
		for _, t := range rows {
			ord, ok := places[t.key]
			if !ok {
				return fmt.Errorf("sqlite: task %s of %v is not a candidate of the call", t.id, t.key)
			}
			retired = append(retired, store.CandidateResult{Index: ord, TaskID: t.id, Retired: true})
		}
		return nil
	})
	return retired, err
}

// openBefore returns how many OPEN tasks the candidates had before the
// call, counted after its writes: those still OPEN, less the ones it
// created, plus the ones it retired (a dry run wrote nothing).
func (s *Store) openBefore(ctx context.Context, q sqldb.Querier, c *call, out store.Outcome) (int, error) {
	open := 0
	err := c.chunks(s.chunkSize, func(_ int, pairs string) error {
		var n int
		err := on(q, "SELECT", "tasks", 0).QueryRowContext(ctx, countOpen, c.b.OrganizationID, c.domains, pairs).Scan(&n)
		open += n
		return s.wrapErr("count open tasks", err)
	})
	if !c.b.DryRun {
		open += out.Retired - out.Created
	}
	return open, err
}

// listOutcomes lists the classified candidates with their tasks, and the
// retired ones, which may be unmatched.
func (s *Store) listOutcomes(ctx context.Context, q sqldb.Querier, c *call, retired []store.CandidateResult) ([]store.CandidateResult, error) {
	rows, err := sqldb.Collect(ctx, on(q, "SELECT", "tasks", c.b.Len()), scanOutcome, listOutcomes, c.b.OrganizationID)
	if err != nil {
		return nil, s.wrapErr("list outcomes", err)
	}
	for i, r := range rows {
		rows[i] = c.b.Settle(r)
	}
	return store.MarkRetired(rows, retired), nil
}

// candidatePlaces maps the key of each candidate of b to its place.
func candidatePlaces(b *store.Batch) map[taskKey]int {
	places := make(map[taskKey]int, b.Len())
	for di, d := range b.Domains {
		for pi, p := range b.Pairs {
			places[taskKey{d, p.ShopID, p.VariantID}] = di*len(b.Pairs) + pi
		}
	}
	return places
}

// taskKey is the key of a task without its organization.
type taskKey struct {
	domain        store.Domain
	shop, variant string
}

type keyedTask struct {
	id  uuid.UUID
	key taskKey
}

func scanKeyedTask(rows sqldb.Row) (keyedTask, error) {
	var t keyedTask
	var id []byte
	var domain string
	if err := rows.Scan(&id, &domain, &t.key.shop, &t.key.variant); err != nil {
		return t, err
	}
	t.key.domain = store.Domain(domain)
	var err error
	t.id, err = uuid.FromBytes(id)
	return t, err
}

// scanOutcome reads a row of list_outcomes.sql: an eligible candidate is
// read as updated, which the caller corrects.
func scanOutcome(rows sqldb.Row) (store.CandidateResult, error) {
	var r store.CandidateResult
	var outcome int
	var id []byte
	if err := rows.Scan(&r.Index, &outcome, &id); err != nil {
		return r, err
	}
	r.Outcome = [...]store.OutcomeKind{store.OutcomeSuppressed, store.OutcomeSkipped, store.OutcomeUpdated}[outcome]
	if id != nil {
		var err error
		if r.TaskID, err = uuid.FromBytes(id); err != nil {
			return r, err
		}
	}
	return r, nil
}

// on returns q, whose statements get the span of a statement of command
// operation on table over batch candidates or rows.
func on(q sqldb.Querier, operation, table string, batch int) sqldb.Querier {
	return sqldb.Traced(q, sqldb.Statement{System: "sqlite", Operation: operation, Collection: table, BatchSize: batch})
}
