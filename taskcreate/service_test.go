package taskcreate_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/taskcreate"
)

// fakeStore records the batches it gets and answers with the errors queued
// in errs, then with an outcome counting every candidate as unmatched.
type fakeStore struct {
	calls   atomic.Int64
	mu      sync.Mutex
	batches []*taskcreate.Batch
	errs    []error
	outcome func(b *taskcreate.Batch) taskcreate.Outcome
}

func (f *fakeStore) MaterializeTasks(ctx context.Context, b *taskcreate.Batch) (taskcreate.Outcome, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, b)
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return taskcreate.Outcome{}, err
	}
	if f.outcome != nil {
		return f.outcome(b), nil
	}
	return taskcreate.Outcome{Unmatched: b.Len()}, nil
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestCreateTasksNormalizesTheBatch(t *testing.T) {
	store := &fakeStore{outcome: func(b *taskcreate.Batch) taskcreate.Outcome {
		return taskcreate.Outcome{Created: 1, Updated: 1, Suppressed: 1, Skipped: 1, Unmatched: b.Len() - 4}
	}}
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	now := time.Date(2026, 11, 28, 10, 0, 0, 123456789, paris)
	var next byte
	svc := taskcreate.New(store, taskcreate.WithClock(fixedClock(now)), taskcreate.WithDefaultPriority(taskcreate.PriorityHigh),
		taskcreate.WithIDSource(func() (uuid.UUID, error) { next++; return uuid.UUID{15: next}, nil }))

	res, err := svc.CreateTasks(t.Context(), taskcreate.Request{
		OrganizationID: "org", WorkflowRunID: "run", MinConfidence: 0.5,
		Domains: []taskcreate.Domain{taskcreate.Restock, taskcreate.Markdown, taskcreate.Restock},
		Perimeter: []taskcreate.Pair{
			{VariantID: "v2", ShopID: "s1"}, {VariantID: "v1", ShopID: "s2"}, {VariantID: "v1", ShopID: "s1"}, {VariantID: "v2", ShopID: "s1"},
		},
	})
	require.NoError(t, err)
	assert.Equal(t, taskcreate.Result{WorkflowRunID: "run", SuccessCode: "WORKFLOW_TASKS_CREATED",
		Created: 1, Updated: 1, Suppressed: 1, Skipped: 1, Unmatched: 2}, res)

	require.Len(t, store.batches, 1)
	b := store.batches[0]
	assert.Equal(t, "org", b.OrganizationID)
	assert.Equal(t, "run", b.WorkflowRunID)
	assert.Equal(t, 0.5, b.MinConfidence)
	assert.Equal(t, taskcreate.PriorityHigh, b.Priority)
	assert.Equal(t, time.Date(2026, 11, 28, 9, 0, 0, 123456000, time.UTC), b.Now)
	assert.Equal(t, time.UTC, b.Now.Location())

	var keys []string
	for _, c := range candidatesOf(b) {
		keys = append(keys, c.key)
	}
	assert.Equal(t, []string{"markdown/s1/v1", "markdown/s1/v2", "markdown/s2/v1", "restock/s1/v1", "restock/s1/v2", "restock/s2/v1"}, keys)
	assert.Equal(t, 6, b.Len())
	assert.Len(t, b.ProposedIDs, 6)
	assert.Equal(t, uuid.UUID{15: 4}, candidatesOf(b)[3].id)
}

func TestDefaultIDsAreUniqueVersion7(t *testing.T) {
	store := &fakeStore{}
	req := validRequest()
	for i := range 1000 {
		req.Perimeter = append(req.Perimeter, taskcreate.Pair{VariantID: "v", ShopID: string(rune('a'+i%26)) + uuid.NewString()})
	}
	req.Domains = taskcreate.Domains()
	_, err := taskcreate.New(store).CreateTasks(t.Context(), req)
	require.NoError(t, err)
	ids := store.batches[0].ProposedIDs
	require.Len(t, ids, 3*1001)
	seen := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		assert.Equal(t, uuid.Version(7), id.Version())
		assert.False(t, seen[id], "duplicate id %s", id)
		seen[id] = true
	}
}

func TestEmptyPerimeterSkipsTheStore(t *testing.T) {
	store := &fakeStore{}
	req := validRequest()
	req.Perimeter = []taskcreate.Pair{}
	res, err := taskcreate.New(store).CreateTasks(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, taskcreate.Result{WorkflowRunID: req.WorkflowRunID, SuccessCode: taskcreate.SuccessCodeTasksCreated}, res)
	assert.Zero(t, store.calls.Load())
}

func TestCreateTasksRetriesTransientErrors(t *testing.T) {
	busy := errors.New("database is locked")
	store := &fakeStore{errs: []error{taskcreate.MarkTransient(busy), taskcreate.MarkTransient(busy)}}
	res, err := taskcreate.New(store, taskcreate.WithRetry(3, time.Millisecond)).CreateTasks(t.Context(), validRequest())
	require.NoError(t, err)
	assert.Equal(t, 1, res.Unmatched)
	assert.EqualValues(t, 3, store.calls.Load())
	assert.Same(t, store.batches[0], store.batches[2], "a retry re-sends the same batch")
}

func TestCreateTasksGivesUpAfterTheLastAttempt(t *testing.T) {
	busy := errors.New("database is locked")
	store := &fakeStore{errs: slices.Repeat([]error{taskcreate.MarkTransient(busy)}, 5)}
	_, err := taskcreate.New(store, taskcreate.WithRetry(2, time.Millisecond)).CreateTasks(t.Context(), validRequest())
	require.ErrorIs(t, err, busy)
	assert.ErrorIs(t, err, taskcreate.ErrTransient)
	assert.Contains(t, err.Error(), "after 2 attempts")
	assert.EqualValues(t, 2, store.calls.Load())
}

func TestCreateTasksDoesNotRetryOtherErrors(t *testing.T) {
	broken := errors.New("disk full")
	store := &fakeStore{errs: []error{broken}}
	_, err := taskcreate.New(store).CreateTasks(t.Context(), validRequest())
	require.ErrorIs(t, err, broken)
	assert.NotErrorIs(t, err, taskcreate.ErrInvalidRequest)
	assert.EqualValues(t, 1, store.calls.Load())
}

func TestCreateTasksStopsRetryingWhenTheContextEnds(t *testing.T) {
	busy := taskcreate.MarkTransient(errors.New("database is locked"))
	store := &fakeStore{errs: []error{busy, busy, busy}}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := taskcreate.New(store, taskcreate.WithRetry(10, time.Hour)).CreateTasks(ctx, validRequest())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualValues(t, 1, store.calls.Load())
}

func TestCreateTasksReportsTheContextErrorOverTheDriverError(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	interrupted := errors.New("interrupted (9)")
	store := &fakeStore{outcome: nil}
	store.errs = []error{interrupted}
	wrapped := &cancellingStore{fakeStore: store, cancel: cancel}
	_, err := taskcreate.New(wrapped).CreateTasks(ctx, validRequest())
	require.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, interrupted)
}

// cancellingStore cancels the caller's context while the store works, as a
// client that hangs up mid-call does.
type cancellingStore struct {
	*fakeStore
	cancel context.CancelFunc
}

func (c *cancellingStore) MaterializeTasks(ctx context.Context, b *taskcreate.Batch) (taskcreate.Outcome, error) {
	c.cancel()
	return c.fakeStore.MaterializeTasks(ctx, b)
}

func TestCreateTasksHonoursACancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	store := &fakeStore{}
	_, err := taskcreate.New(store).CreateTasks(ctx, validRequest())
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, store.calls.Load())
}

func TestCreateTasksRejectsAnInconsistentOutcome(t *testing.T) {
	tests := map[string]taskcreate.Outcome{
		"too few":  {},
		"too many": {Created: 1, Unmatched: 1},
		"negative": {Created: 2, Updated: -1},
	}
	for name, outcome := range tests {
		t.Run(name, func(t *testing.T) {
			store := &fakeStore{outcome: func(*taskcreate.Batch) taskcreate.Outcome { return outcome }}
			_, err := taskcreate.New(store).CreateTasks(t.Context(), validRequest())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "of 1 candidates")
		})
	}
}

func TestCreateTasksReportsIDSourceFailures(t *testing.T) {
	broken := errors.New("entropy exhausted")
	store := &fakeStore{}
	svc := taskcreate.New(store, taskcreate.WithIDSource(func() (uuid.UUID, error) { return uuid.Nil, broken }))
	_, err := svc.CreateTasks(t.Context(), validRequest())
	require.ErrorIs(t, err, broken)
	assert.Zero(t, store.calls.Load())
}

func TestNewPanicsOnProgrammingErrors(t *testing.T) {
	store := &fakeStore{}
	tests := map[string]func(){
		"nil store":        func() { taskcreate.New(nil) },
		"nil clock":        func() { taskcreate.New(store, taskcreate.WithClock(nil)) },
		"bad priority":     func() { taskcreate.New(store, taskcreate.WithDefaultPriority("medium")) },
		"zero perimeter":   func() { taskcreate.New(store, taskcreate.WithMaxPerimeter(0)) },
		"zero attempts":    func() { taskcreate.New(store, taskcreate.WithRetry(0, time.Millisecond)) },
		"negative backoff": func() { taskcreate.New(store, taskcreate.WithRetry(1, -time.Millisecond)) },
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) { assert.Panics(t, fn) })
	}
}
