package taskcreate_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// fakeStore records the batches it gets and answers with the errors queued
// in errs, then with an outcome counting every candidate as unmatched.
type fakeStore struct {
	calls   atomic.Int64
	mu      sync.Mutex
	batches []*store.Batch
	sweeps  []*store.Sweep
	errs    []error
	outcome func(b *store.Batch) store.Outcome
}

func (f *fakeStore) MaterializeTasks(ctx context.Context, b *store.Batch) (store.Outcome, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, b)
	if err := f.nextErr(); err != nil {
		return store.Outcome{}, err
	}
	if f.outcome != nil {
		return f.outcome(b), nil
	}
	return store.Outcome{Unmatched: b.Len()}, nil
}

func (f *fakeStore) SweepTasks(ctx context.Context, sw *store.Sweep) (int, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sweeps = append(f.sweeps, sw)
	if err := f.nextErr(); err != nil {
		return 0, err
	}
	return 7, nil
}

// nextErr takes the next queued error, if any; f.mu is held.
func (f *fakeStore) nextErr() error {
	if len(f.errs) == 0 {
		return nil
	}
	err := f.errs[0]
	f.errs = f.errs[1:]
	return err
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestCreateTasksNormalizesTheBatch(t *testing.T) {
	ts := &fakeStore{outcome: func(b *store.Batch) store.Outcome {
		return store.Outcome{Created: 1, Updated: 1, Suppressed: 1, Skipped: 1, Unmatched: b.Len() - 4}
	}}
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	now := time.Date(2026, 11, 28, 10, 0, 0, 123456789, paris)
	var next byte
	svc := taskcreate.New(ts, taskcreate.WithClock(fixedClock(now)), taskcreate.WithDefaultPriority(taskcreate.PriorityHigh),
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

	require.Len(t, ts.batches, 1)
	b := ts.batches[0]
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
	assert.Equal(t, 6, b.ProposedIDs.Len())
	assert.Equal(t, uuid.UUID{15: 4}, candidatesOf(b)[3].id)
	assert.Equal(t, taskcreate.DefaultRetireBudget, b.RetireBudget)
	assert.True(t, b.SnapshotDate.IsZero())
}

// The batch carries the retirement budget, the request's in place of the
// service's, and the pinned snapshot date.
func TestCreateTasksPassesTheGuard(t *testing.T) {
	ts := &fakeStore{}
	req := validRequest()
	req.SnapshotDate = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	_, err := taskcreate.New(ts, taskcreate.WithRetireBudget(0.2)).CreateTasks(t.Context(), req)
	require.NoError(t, err)
	req.MaxRetireFraction = ptr(0.9)
	_, err = taskcreate.New(ts, taskcreate.WithRetireBudget(0.2)).CreateTasks(t.Context(), req)
	require.NoError(t, err)
	require.Len(t, ts.batches, 2)
	assert.Equal(t, []float64{0.2, 0.9}, []float64{ts.batches[0].RetireBudget, ts.batches[1].RetireBudget})
	assert.Equal(t, req.SnapshotDate, ts.batches[0].SnapshotDate)
}

func TestCheckRetireBudget(t *testing.T) {
	b := &store.Batch{RetireBudget: 0.5}
	assert.NoError(t, b.CheckRetireBudget(100, 50), "at the limit")
	err := b.CheckRetireBudget(100, 51)
	assert.ErrorIs(t, err, taskcreate.ErrRetireBudgetExceeded)
	assert.Equal(t, &taskcreate.RetireBudgetError{WouldRetire: 51, Open: 100, Budget: 0.5}, err)
	assert.NoError(t, b.CheckRetireBudget(21, taskcreate.RetireGuardMinimum), "never more than the guard's minimum")
	assert.ErrorContains(t, err, "would retire 51 of 100 open tasks")
}

func TestDefaultIDsAreUniqueVersion7(t *testing.T) {
	ts := &fakeStore{}
	req := validRequest()
	for i := range 1000 {
		req.Perimeter = append(req.Perimeter, taskcreate.Pair{VariantID: "v", ShopID: string(rune('a'+i%26)) + uuid.NewString()})
	}
	req.Domains = taskcreate.Domains()
	svc := taskcreate.New(ts)
	seen := make(map[uuid.UUID]bool)
	for call := range 2 { // unique within a call and across calls
		_, err := svc.CreateTasks(t.Context(), req)
		require.NoError(t, err)
		ids := ts.batches[call].ProposedIDs
		require.Equal(t, 3*1001, ids.Len())
		for i := range ids.Len() {
			id := ids.At(i)
			assert.Equal(t, uuid.Version(7), id.Version())
			assert.Equal(t, uuid.RFC4122, id.Variant())
			assert.False(t, seen[id], "duplicate id %s", id)
			seen[id] = true
		}
	}
}

func TestEmptyPerimeterSkipsTheStore(t *testing.T) {
	ts := &fakeStore{}
	req := validRequest()
	req.Perimeter = []taskcreate.Pair{}
	res, err := taskcreate.New(ts).CreateTasks(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, taskcreate.Result{WorkflowRunID: req.WorkflowRunID, SuccessCode: taskcreate.SuccessCodeTasksCreated}, res)
	assert.Zero(t, ts.calls.Load())
}

// The retries run in a synctest bubble, where the backoffs take no real
// time and can be measured exactly: from 1ms, doubling, with full jitter,
// two backoffs wait at most 1ms + 2ms.
func TestCreateTasksRetriesTransientErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		busy := errors.New("database is locked")
		ts := &fakeStore{errs: []error{store.MarkTransient(busy), store.MarkTransient(busy)}}
		start := time.Now()
		res, err := taskcreate.New(ts, taskcreate.WithRetry(3, time.Millisecond)).CreateTasks(t.Context(), validRequest())
		require.NoError(t, err)
		assert.LessOrEqual(t, time.Since(start), 3*time.Millisecond, "waited past the backoffs")
		assert.Equal(t, 1, res.Unmatched)
		assert.EqualValues(t, 3, ts.calls.Load())
		assert.Same(t, ts.batches[0], ts.batches[2], "a retry re-sends the same batch")
	})
}

func TestCreateTasksGivesUpAfterTheLastAttempt(t *testing.T) {
	busy := errors.New("database is locked")
	ts := &fakeStore{errs: slices.Repeat([]error{store.MarkTransient(busy)}, 5)}
	_, err := taskcreate.New(ts, taskcreate.WithRetry(2, time.Millisecond)).CreateTasks(t.Context(), validRequest())
	require.ErrorIs(t, err, busy)
	assert.ErrorIs(t, err, taskcreate.ErrTransient)
	assert.Contains(t, err.Error(), "after 2 attempts")
	assert.EqualValues(t, 2, ts.calls.Load())
}

func TestCreateTasksDoesNotRetryOtherErrors(t *testing.T) {
	broken := errors.New("disk full")
	ts := &fakeStore{errs: []error{broken}}
	_, err := taskcreate.New(ts).CreateTasks(t.Context(), validRequest())
	require.ErrorIs(t, err, broken)
	assert.NotErrorIs(t, err, taskcreate.ErrInvalidRequest)
	assert.EqualValues(t, 1, ts.calls.Load())
}

// The deadline cuts a backoff short: in a synctest bubble, the call
// returns when the context ends, not an hour later.
func TestCreateTasksStopsRetryingWhenTheContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		busy := store.MarkTransient(errors.New("database is locked"))
		ts := &fakeStore{errs: []error{busy, busy, busy}}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := taskcreate.New(ts, taskcreate.WithRetry(10, time.Hour)).CreateTasks(ctx, validRequest())
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.LessOrEqual(t, time.Since(start), 20*time.Millisecond, "the backoff outlived the deadline")
		assert.EqualValues(t, 1, ts.calls.Load())
	})
}

func TestCreateTasksReportsTheContextErrorOverTheDriverError(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	interrupted := errors.New("interrupted (9)")
	ts := &fakeStore{outcome: nil}
	ts.errs = []error{interrupted}
	wrapped := &cancellingStore{fakeStore: ts, cancel: cancel}
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

func (c *cancellingStore) MaterializeTasks(ctx context.Context, b *store.Batch) (store.Outcome, error) {
	c.cancel()
	return c.fakeStore.MaterializeTasks(ctx, b)
}

func TestCreateTasksHonoursACancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ts := &fakeStore{}
	_, err := taskcreate.New(ts).CreateTasks(ctx, validRequest())
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, ts.calls.Load())
}

func TestCreateTasksRejectsAnInconsistentOutcome(t *testing.T) {
	tests := map[string]store.Outcome{
		"too few":  {},
		"too many": {Created: 1, Unmatched: 1},
		"negative": {Created: 2, Updated: -1},
	}
	for name, outcome := range tests {
		t.Run(name, func(t *testing.T) {
			ts := &fakeStore{outcome: func(*store.Batch) store.Outcome { return outcome }}
			_, err := taskcreate.New(ts).CreateTasks(t.Context(), validRequest())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "of 1 candidates")
		})
	}
}

func TestCreateTasksReportsIDSourceFailures(t *testing.T) {
	broken := errors.New("entropy exhausted")
	ts := &fakeStore{}
	svc := taskcreate.New(ts, taskcreate.WithIDSource(func() (uuid.UUID, error) { return uuid.Nil, broken }))
	_, err := svc.CreateTasks(t.Context(), validRequest())
	require.ErrorIs(t, err, broken)
	assert.Zero(t, ts.calls.Load())
}

func TestNewPanicsOnProgrammingErrors(t *testing.T) {
	ts := &fakeStore{}
	tests := map[string]func(){
		"nil store":         func() { taskcreate.New(nil) },
		"nil clock":         func() { taskcreate.New(ts, taskcreate.WithClock(nil)) },
		"bad priority":      func() { taskcreate.New(ts, taskcreate.WithDefaultPriority("medium")) },
		"zero perimeter":    func() { taskcreate.New(ts, taskcreate.WithMaxPerimeter(0)) },
		"negative outcomes": func() { taskcreate.New(ts, taskcreate.WithMaxOutcomes(-1)) },
		"zero attempts":     func() { taskcreate.New(ts, taskcreate.WithRetry(0, time.Millisecond)) },
		"negative backoff":  func() { taskcreate.New(ts, taskcreate.WithRetry(1, -time.Millisecond)) },
		"budget below 0":    func() { taskcreate.New(ts, taskcreate.WithRetireBudget(-0.01)) },
		"budget above 1":    func() { taskcreate.New(ts, taskcreate.WithRetireBudget(1.01)) },
		"budget NaN":        func() { taskcreate.New(ts, taskcreate.WithRetireBudget(math.NaN())) },
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) { assert.Panics(t, fn) })
	}
}

func TestDryRunIsAPreview(t *testing.T) {
	ts := &fakeStore{}
	req := validRequest()
	req.DryRun, req.RetireStale = true, true
	res, err := taskcreate.New(ts).CreateTasks(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, taskcreate.SuccessCodeTasksPreviewed, res.SuccessCode)
	require.Len(t, ts.batches, 1)
	assert.True(t, ts.batches[0].DryRun)
	assert.True(t, ts.batches[0].RetireStale)
	assert.Nil(t, res.Outcomes, "outcomes only when asked")
}

func TestOutcomesListEveryCandidateInKeyOrder(t *testing.T) {
	id := uuid.UUID{15: 9}
	ts := &fakeStore{outcome: func(b *store.Batch) store.Outcome {
		// Candidates: markdown/s1/v1 (0), markdown/s2/v1 (1), restock/s1/v1 (2), restock/s2/v1 (3).
		return store.Outcome{Created: 1, Suppressed: 1, Unmatched: 2, Retired: 1, Open: 1, Candidates: []store.CandidateResult{
			{Index: 3, Outcome: taskcreate.OutcomeCreated, TaskID: b.ProposedIDs.At(3)},
			{Index: 1, Outcome: taskcreate.OutcomeSuppressed, TaskID: id, Retired: true},
		}}
	}}
	req := validRequest()
	req.Domains = []taskcreate.Domain{taskcreate.Restock, taskcreate.Markdown}
	req.Perimeter = []taskcreate.Pair{{VariantID: "v1", ShopID: "s2"}, {VariantID: "v1", ShopID: "s1"}}
	req.ReturnOutcomes, req.RetireStale = true, true
	res, err := taskcreate.New(ts, taskcreate.WithIDSource(sequence())).CreateTasks(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, []taskcreate.CandidateOutcome{
		{Domain: taskcreate.Markdown, ShopID: "s1", VariantID: "v1", Outcome: taskcreate.OutcomeUnmatched},
		{Domain: taskcreate.Markdown, ShopID: "s2", VariantID: "v1", Outcome: taskcreate.OutcomeSuppressed, TaskID: id, Retired: true},
		{Domain: taskcreate.Restock, ShopID: "s1", VariantID: "v1", Outcome: taskcreate.OutcomeUnmatched},
		{Domain: taskcreate.Restock, ShopID: "s2", VariantID: "v1", Outcome: taskcreate.OutcomeCreated, TaskID: uuid.UUID{15: 3}},
	}, res.Outcomes)
	assert.Equal(t, 1, res.Retired)

	req.Perimeter = []taskcreate.Pair{}
	res, err = taskcreate.New(ts).CreateTasks(t.Context(), req)
	require.NoError(t, err)
	assert.NotNil(t, res.Outcomes, "an empty list, not none, when asked")
	assert.Empty(t, res.Outcomes)
}

// sequence returns an id source of uuid.UUID{15: 0}, {15: 1}, ...
func sequence() func() (uuid.UUID, error) {
	n := byte(0)
	return func() (uuid.UUID, error) {
		id := uuid.UUID{15: n}
		n++
		return id, nil
	}
}

func TestTooManyOutcomesAreRefusedBeforeTheStore(t *testing.T) {
	ts := &fakeStore{}
	req := validRequest()
	req.Domains = taskcreate.Domains()
	req.Perimeter = []taskcreate.Pair{{VariantID: "v1", ShopID: "s1"}, {VariantID: "v2", ShopID: "s1"}, {VariantID: "v1", ShopID: "s1"}}
	req.ReturnOutcomes = true
	_, err := taskcreate.New(ts, taskcreate.WithMaxOutcomes(5)).CreateTasks(t.Context(), req)
	var invalid *taskcreate.ValidationError
	require.ErrorAs(t, err, &invalid)
	require.Len(t, invalid.Fields, 1)
	assert.Equal(t, "returnOutcomes", invalid.Fields[0].Field)
	assert.Contains(t, invalid.Fields[0].Message, "at most 5 candidates")
	assert.Contains(t, invalid.Fields[0].Message, "has 6 (2 pairs x 3 domains)")
	assert.Zero(t, ts.calls.Load())

	_, err = taskcreate.New(ts, taskcreate.WithMaxOutcomes(6)).CreateTasks(t.Context(), req)
	require.NoError(t, err, "6 candidates are within a bound of 6")
	req.ReturnOutcomes = false
	_, err = taskcreate.New(ts, taskcreate.WithMaxOutcomes(5)).CreateTasks(t.Context(), req)
	require.NoError(t, err, "the bound applies only to a request that asks for outcomes")
}

func TestCreateTasksRejectsAnInconsistentList(t *testing.T) {
	tests := map[string]store.Outcome{
		"retired without RetireStale": {Suppressed: 1, Retired: 1},
		"listed twice": {Created: 1, Candidates: []store.CandidateResult{
			{Index: 0, Outcome: taskcreate.OutcomeCreated}, {Index: 0, Outcome: taskcreate.OutcomeCreated}}},
		"listed out of range":      {Created: 1, Candidates: []store.CandidateResult{{Index: 1, Outcome: taskcreate.OutcomeCreated}}},
		"list and counts disagree": {Created: 1, Candidates: []store.CandidateResult{{Index: 0, Outcome: taskcreate.OutcomeUpdated}}},
		"unknown outcome":          {Created: 1, Candidates: []store.CandidateResult{{Index: 0, Outcome: "made"}}},
	}
	for name, outcome := range tests {
		t.Run(name, func(t *testing.T) {
			ts := &fakeStore{outcome: func(*store.Batch) store.Outcome { return outcome }}
			req := validRequest()
			req.ReturnOutcomes = true
			_, err := taskcreate.New(ts).CreateTasks(t.Context(), req)
			require.ErrorContains(t, err, "store accounted for the candidates wrongly")
		})
	}
}

func TestSweepRun(t *testing.T) {
	ts := &fakeStore{}
	now := time.Date(2026, 12, 1, 8, 0, 0, 123456789, time.FixedZone("", 3600))
	svc := taskcreate.New(ts, taskcreate.WithClock(fixedClock(now)), taskcreate.WithRetry(3, time.Millisecond))
	res, err := svc.SweepRun(t.Context(), taskcreate.SweepRequest{OrganizationID: "org", WorkflowRunID: "run"})
	require.NoError(t, err)
	assert.Equal(t, taskcreate.SweepResult{WorkflowRunID: "run", SuccessCode: taskcreate.SuccessCodeTasksSwept, Dismissed: 7}, res)
	require.Len(t, ts.sweeps, 1)
	assert.Equal(t, store.Sweep{OrganizationID: "org", WorkflowRunID: "run", Now: time.Date(2026, 12, 1, 7, 0, 0, 123456000, time.UTC)}, *ts.sweeps[0])

	res, err = svc.SweepRun(t.Context(), taskcreate.SweepRequest{OrganizationID: "org", WorkflowRunID: "run", DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, taskcreate.SuccessCodeTasksPreviewed, res.SuccessCode)
	assert.True(t, ts.sweeps[1].DryRun)

	ts.errs = []error{store.MarkTransient(errors.New("busy"))}
	_, err = svc.SweepRun(t.Context(), taskcreate.SweepRequest{OrganizationID: "org", WorkflowRunID: "run"})
	require.NoError(t, err, "a transient error is retried")

	calls := ts.calls.Load()
	_, err = svc.SweepRun(t.Context(), taskcreate.SweepRequest{OrganizationID: " ", WorkflowRunID: "run\n"})
	var invalid *taskcreate.ValidationError
	require.ErrorAs(t, err, &invalid)
	assert.Equal(t, []string{"organizationId", "workflowRunId"}, []string{invalid.Fields[0].Field, invalid.Fields[1].Field})
	assert.Equal(t, calls, ts.calls.Load(), "an invalid sweep never reaches the store")
}

func TestMarkRetired(t *testing.T) {
	listed := []store.CandidateResult{
		{Index: 0, Outcome: taskcreate.OutcomeSuppressed},
		{Index: 2, Outcome: taskcreate.OutcomeUpdated, TaskID: uuid.MustParse("00000000-0000-7000-8000-000000000002")},
	}
	retired := []store.CandidateResult{
		{Index: 0, TaskID: uuid.MustParse("00000000-0000-7000-8000-000000000001"), Retired: true},
		{Index: 5, TaskID: uuid.MustParse("00000000-0000-7000-8000-000000000005"), Retired: true},
	}
	assert.Equal(t, []store.CandidateResult{
		{Index: 0, Outcome: taskcreate.OutcomeSuppressed, TaskID: retired[0].TaskID, Retired: true},
		{Index: 2, Outcome: taskcreate.OutcomeUpdated, TaskID: listed[1].TaskID},
		{Index: 5, Outcome: taskcreate.OutcomeUnmatched, TaskID: retired[1].TaskID, Retired: true},
	}, store.MarkRetired(listed, retired))
}

// The telemetry of the calls: their spans and metrics.

// recorder collects the spans and metrics of a Service.
type recorder struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	r.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	r.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	t.Cleanup(func() {
		_ = r.tp.Shutdown(context.Background())
		_ = r.mp.Shutdown(context.Background())
	})
	return r
}

func (r *recorder) options() []taskcreate.Option {
	return []taskcreate.Option{taskcreate.WithTracerProvider(r.tp), taskcreate.WithMeterProvider(r.mp),
		taskcreate.WithRetry(3, time.Millisecond)}
}

// span returns the one ended span named name.
func (r *recorder) span(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range r.spans.Ended() {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	require.Len(t, found, 1, "spans named %s", name)
	return found[0]
}

func attrs(kvs []attribute.KeyValue) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

// metrics returns, by instrument name, the points recorded: for counters
// the sum of each attribute set, for histograms their count.
func (r *recorder) metrics(t *testing.T) map[string]map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.reader.Collect(context.Background(), &rm))
	out := map[string]map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			points := map[string]int64{}
			switch data := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range data.DataPoints {
					points[p.Attributes.Encoded(attribute.DefaultEncoder())] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range data.DataPoints {
					points[p.Attributes.Encoded(attribute.DefaultEncoder())] += int64(p.Count)
				}
			}
			out[m.Name] = points
		}
	}
	return out
}

func TestTelemetryOfASuccessfulCall(t *testing.T) {
	r := newRecorder(t)
	ts := &fakeStore{outcome: func(b *store.Batch) store.Outcome {
		return store.Outcome{Created: 1, Suppressed: 1, Unmatched: b.Len() - 2}
	}}
	req := validRequest()
	req.Perimeter = append(req.Perimeter, taskcreate.Pair{VariantID: "v9", ShopID: "s9"})
	_, err := taskcreate.New(ts, r.options()...).CreateTasks(t.Context(), req)
	require.NoError(t, err)

	span := r.span(t, "CreateTasks")
	assert.Equal(t, trace.SpanKindInternal, span.SpanKind())
	assert.Equal(t, codes.Unset, span.Status().Code)
	got := attrs(span.Attributes())
	for k, v := range map[string]any{
		"actionvector.organization.id": req.OrganizationID, "actionvector.workflow_run.id": req.WorkflowRunID,
		"actionvector.operation": "create", "actionvector.dry_run": false, "actionvector.candidates": int64(2),
		"actionvector.attempts": int64(1), "actionvector.tasks.created": int64(1), "actionvector.tasks.suppressed": int64(1),
		"actionvector.tasks.updated": int64(0), "actionvector.tasks.unmatched": int64(0), "actionvector.tasks.retired": int64(0),
	} {
		assert.Equal(t, v, got[k], "span attribute %s", k)
	}
	assert.NotContains(t, got, "error.type")

	m := r.metrics(t)
	assert.Equal(t, map[string]int64{"actionvector.dry_run=false,actionvector.operation=create,actionvector.result=success": 1},
		m["actionvector.tasks.call.duration"])
	assert.Equal(t, map[string]int64{
		"actionvector.dry_run=false,actionvector.outcome=created":    1,
		"actionvector.dry_run=false,actionvector.outcome=suppressed": 1,
	}, m["actionvector.tasks.candidates"])
	assert.Empty(t, m["actionvector.tasks.retries"])
}

func TestTelemetryOfAnInvalidRequest(t *testing.T) {
	r := newRecorder(t)
	ts := &fakeStore{}
	req := validRequest()
	req.WorkflowRunID = " "
	_, err := taskcreate.New(ts, r.options()...).CreateTasks(t.Context(), req)
	require.ErrorIs(t, err, taskcreate.ErrInvalidRequest)

	span := r.span(t, "CreateTasks")
	assert.Equal(t, codes.Error, span.Status().Code)
	got := attrs(span.Attributes())
	assert.Equal(t, "MISSING_REQUIRED_FIELD", got["actionvector.error_code"])
	assert.Equal(t, "MISSING_REQUIRED_FIELD", got["error.type"])
	assert.Equal(t, int64(0), got["actionvector.attempts"])
	assert.NotContains(t, got, "actionvector.tasks.created", "no counts for a call that failed")
	assert.Equal(t, map[string]int64{
		"actionvector.dry_run=false,actionvector.operation=create,actionvector.result=MISSING_REQUIRED_FIELD,error.type=MISSING_REQUIRED_FIELD": 1,
	}, r.metrics(t)["actionvector.tasks.call.duration"])
}

func TestTelemetryOfAStoreErrorAndARetry(t *testing.T) {
	r := newRecorder(t)
	ts := &fakeStore{errs: []error{store.MarkTransient(errors.New("busy")), errors.New("disk full")}}
	svc := taskcreate.New(ts, r.options()...)
	_, err := svc.CreateTasks(t.Context(), validRequest())
	require.Error(t, err)
	span := r.span(t, "CreateTasks")
	got := attrs(span.Attributes())
	assert.Equal(t, "STORE_ERROR", got["error.type"])
	assert.NotContains(t, got, "actionvector.error_code", "the code of an invalid request only")
	assert.Equal(t, int64(2), got["actionvector.attempts"])
	assert.Equal(t, codes.Error, span.Status().Code)
	m := r.metrics(t)
	assert.Equal(t, map[string]int64{"actionvector.operation=create": 1}, m["actionvector.tasks.retries"])
	assert.Equal(t, map[string]int64{
		"actionvector.dry_run=false,actionvector.operation=create,actionvector.result=STORE_ERROR,error.type=STORE_ERROR": 1,
	}, m["actionvector.tasks.call.duration"])

	_, err = svc.SweepRun(t.Context(), taskcreate.SweepRequest{OrganizationID: "org", WorkflowRunID: "run", DryRun: true})
	require.NoError(t, err)
	sweep := attrs(r.span(t, "SweepRun").Attributes())
	assert.Equal(t, "sweep", sweep["actionvector.operation"])
	assert.Equal(t, int64(7), sweep["actionvector.tasks.dismissed"])
}

// candidate is one (domain, pair) of a batch, "domain/shop/variant", and
// the id proposed for it.
type candidate struct {
	key string
	id  uuid.UUID
}

// candidatesOf lists the candidates of b as the Batch documents them:
// Domains x Pairs in that order, ProposedIDs.At(i) for candidate i.
func candidatesOf(b *store.Batch) []candidate {
	var out []candidate
	for _, d := range b.Domains {
		for _, p := range b.Pairs {
			out = append(out, candidate{string(d) + "/" + p.ShopID + "/" + p.VariantID, b.ProposedIDs.At(len(out))})
		}
	}
	return out
}
