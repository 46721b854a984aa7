package sqlite

import (
	"context"
	"fmt"

	"github.com/actionvector/tasks/internal/sqldb"
	"github.com/actionvector/tasks/taskcreate"
)

// MaterializeTasks implements taskcreate.TaskStore. A batch is classified
// into a temporary table, a chunk of pairs per statement, then its eligible
// candidates are upserted into tasks in one statement, and the outcomes
// counted in another: a constant number of statements per chunk, never one
// per candidate. Candidates the table does not hold are unmatched.
func (s *Store) MaterializeTasks(ctx context.Context, b *taskcreate.Batch) (taskcreate.Outcome, error) {
	if b.Len() == 0 {
		return taskcreate.Outcome{}, nil
	}
	domains := string(appendJSONStrings(nil, b.Domains))
	ids := make([]byte, 0, 16*len(b.ProposedIDs))
	for _, id := range b.ProposedIDs {
		ids = append(ids, id[:]...)
	}
	var out taskcreate.Outcome
	err := s.inWriteTx(ctx, func(q sqldb.Querier) error {
		if _, err := q.ExecContext(ctx, createCandidates); err != nil {
			return s.wrapErr("create candidate table", err)
		}
		if _, err := q.ExecContext(ctx, clearCandidates); err != nil {
			return s.wrapErr("clear candidates", err)
		}
		var chunk []byte
		for lo := 0; lo < len(b.Pairs); lo += s.chunkSize {
			chunk = appendPairs(chunk[:0], b.Pairs[lo:min(lo+s.chunkSize, len(b.Pairs))])
			if _, err := q.ExecContext(ctx, classifyCandidates,
				b.OrganizationID, b.MinConfidence, domains, string(chunk), lo, len(b.Pairs)); err != nil {
				return s.wrapErr("classify candidates", err)
			}
		}
		res, err := q.ExecContext(ctx, upsertTasks, b.OrganizationID, string(b.Priority), b.WorkflowRunID, formatTimestamp(b.Now), ids)
		if err != nil {
			return s.wrapErr("upsert tasks", err)
		}
		written, err := res.RowsAffected()
		if err != nil {
			return s.wrapErr("upsert tasks", err)
		}
		var eligible int
		if err := q.QueryRowContext(ctx, countOutcomes, ids).Scan(&out.Suppressed, &out.Skipped, &eligible, &out.Created); err != nil {
			return s.wrapErr("count outcomes", err)
		}
		if written != int64(eligible) {
			return fmt.Errorf("sqlite: upsert wrote %d tasks for %d eligible candidates", written, eligible)
		}
		out.Updated = eligible - out.Created
		out.Unmatched = b.Len() - out.Suppressed - out.Skipped - eligible
		if _, err := q.ExecContext(ctx, clearCandidates); err != nil {
			return s.wrapErr("clear candidates", err)
		}
		return nil
	})
	if err != nil {
		return taskcreate.Outcome{}, err
	}
	return out, nil
}
