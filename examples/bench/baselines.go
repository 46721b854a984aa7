package main

import (
	"context"
	"fmt"
	"time"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// timeBatch times the batch baseline on the whole perimeter, creating
// then updating, where the database has one.
func (s *session) timeBatch(ctx context.Context) (err error) {
	b, ok := s.db.(batcher)
	if !ok {
		return nil
	}
	r := s.r
	s.cfg.progressf("batch: one read, classification in Go, one bulk load and one upsert")
	if r.batchCreate, err = timeRuns(ctx, s.db, s.cfg.reps, s.db.ClearTasks, s.batchCall(b, "create", r.expected)); err != nil {
		return fmt.Errorf("batch create: %w", err)
	}
	if r.batchUpdate, err = timeRuns(ctx, s.db, s.cfg.reps, nil, s.batchCall(b, "update", s.wantUpdate)); err != nil {
		return fmt.Errorf("batch update: %w", err)
	}
	return nil
}

// batchCall returns a call of the batch baseline on the whole perimeter as
// a run of phase, which fails unless it reports the counts of want.
func (s *session) batchCall(b batcher, phase string, want store.Outcome) func(context.Context, string) error {
	return func(ctx context.Context, run string) error {
		s.req.WorkflowRunID = "bench-batch-" + phase + "-" + run
		got, err := b.Batch(ctx, s.req, time.Now())
		if err != nil {
			return err
		}
		if counts(got) != counts(want) {
			return fmt.Errorf("batch %s reported %+v, CreateTasks %+v", phase, got, want)
		}
		return nil
	}
}

// timeNaive times the naive implementation on the first naivePairs pairs,
// creating then updating, and checks that it agrees with CreateTasks on
// the same pairs.
func (s *session) timeNaive(ctx context.Context) (err error) {
	r := s.r
	req := s.fx.Request("", r.naivePairs)
	var created, updated store.Outcome
	naive := func(dst *store.Outcome, phase string) func(context.Context, string) error {
		return func(ctx context.Context, run string) (err error) {
			req.WorkflowRunID = "bench-naive-" + phase + "-" + run
			*dst, err = runNaive(ctx, s.db.DB(), s.db.Naive(), req, time.Now())
			return err
		}
	}
	s.cfg.progressf("naive: %d candidates, one statement each", 3*r.naivePairs)
	if r.naiveCreate, err = timeRuns(ctx, s.db, r.reps, s.db.ClearTasks, naive(&created, "create")); err != nil {
		return fmt.Errorf("naive create: %w", err)
	}
	if r.naiveUpdate, err = timeRuns(ctx, s.db, r.reps, nil, naive(&updated, "update")); err != nil {
		return fmt.Errorf("naive update: %w", err)
	}
	return s.checkNaive(ctx, req, created, updated)
}

// checkNaive makes the CreateTasks call of req on an empty table and
// notes in the report where the naive baseline's counts of its create and
// update differ from it.
func (s *session) checkNaive(ctx context.Context, req taskcreate.Request, created, updated store.Outcome) error {
	if err := s.db.ClearTasks(ctx); err != nil {
		return err
	}
	req.WorkflowRunID = "bench-naive-check"
	res, err := s.svc.CreateTasks(ctx, req)
	if err != nil {
		return fmt.Errorf("naive check: %w", err)
	}
	want := outcomeOf(res)
	wantUpdate := want
	wantUpdate.Created, wantUpdate.Updated = 0, want.Created+want.Updated
	switch {
	case counts(created) != counts(want):
		s.r.naiveMismatch = fmt.Sprintf("naive create reported %+v, CreateTasks %+v", created, want)
	case counts(updated) != counts(wantUpdate):
		s.r.naiveMismatch = fmt.Sprintf("naive update reported %+v, CreateTasks would %+v", updated, wantUpdate)
	}
	return nil
}
