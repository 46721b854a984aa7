package taskhttp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/taskcreate"
)

const (
	testToken = "s3cret-token-for-tests"
	seedOrg   = "550e8400-e29b-41d4-a716-446655440001"
	seedRun   = "workflow-run-uuid-abc123"
)

// seedBody is the body of the original endpoint's reference example.
const seedBody = `{"domains":["restock"],"minConfidence":0.6,"organizationId":"550e8400-e29b-41d4-a716-446655440001","perimeter":[{"shopId":"shop-uuid-1","variantId":"variant-uuid-1"},{"shopId":"shop-uuid-2","variantId":"variant-uuid-2"}],"workflowRunId":"workflow-run-uuid-abc123"}`

// seedResponse is the reference example's answer inside the success envelope.
const seedResponse = `{"success":true,"data":{"created":2,"updated":0,"suppressed":0,"skipped":0,"unmatched":0,"successCode":"WORKFLOW_TASKS_CREATED","workflowRunId":"workflow-run-uuid-abc123"}}`

// countingStore counts the calls that reach the store.
type countingStore struct {
	taskcreate.TaskStore
	calls atomic.Int64
}

func (s *countingStore) MaterializeTasks(ctx context.Context, b *store.Batch) (store.Outcome, error) {
	s.calls.Add(1)
	return s.TaskStore.MaterializeTasks(ctx, b)
}

// storeFunc is a TaskStore made of a function, for failures.
type storeFunc func(ctx context.Context, b *store.Batch) (store.Outcome, error)

func (f storeFunc) MaterializeTasks(ctx context.Context, b *store.Batch) (store.Outcome, error) {
	return f(ctx, b)
}

// SweepTasks fails: the stores made of a function serve CreateTasks only.
func (f storeFunc) SweepTasks(context.Context, *store.Sweep) (int, error) {
	return 0, errors.New("storeFunc: no sweep")
}

// unmatchedStore answers every candidate as unmatched without a database.
var unmatchedStore = storeFunc(func(_ context.Context, b *store.Batch) (store.Outcome, error) {
	return store.Outcome{Unmatched: b.Len()}, nil
})

// blockingStore holds every call until released, announcing it on entered.
func blockingStore() (ts storeFunc, entered chan struct{}, release chan struct{}) {
	entered, release = make(chan struct{}), make(chan struct{})
	return func(_ context.Context, b *store.Batch) (store.Outcome, error) {
		entered <- struct{}{}
		<-release
		return store.Outcome{Unmatched: b.Len()}, nil
	}, entered, release
}

// newSeededStore returns an in-memory SQLite store holding the action
// vectors that make the seed request create exactly two tasks.
func newSeededStore(t *testing.T) *countingStore {
	t.Helper()
	ts, err := sqlite.Open(t.Context(), ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ts.Close()) })
	qty1, qty2, conf1, conf2 := 24, 10, 0.91, 0.78
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	require.NoError(t, ts.PutActionVectors(t.Context(), []taskcreate.ActionVector{
		{OrganizationID: seedOrg, VariantID: "variant-uuid-1", ShopID: "shop-uuid-1", SnapshotDate: day,
			Domain: taskcreate.Restock, RecommendedQty: &qty1, Confidence: &conf1, Snapshot: json.RawMessage(`{"daysOfCover":1.5}`)},
		{OrganizationID: seedOrg, VariantID: "variant-uuid-2", ShopID: "shop-uuid-2", SnapshotDate: day,
			Domain: taskcreate.Restock, RecommendedQty: &qty2, Confidence: &conf2, Snapshot: json.RawMessage(`{"daysOfCover":3}`)},
	}))
	return &countingStore{TaskStore: ts}
}

// Another process holding SQLite's write lock past the busy timeout, through
// every retry, is a 503 to come back later, not a 500.
func TestSQLiteBusyIsServiceUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tasks.db")
	ts, err := sqlite.Open(t.Context(), path, sqlite.WithBusyTimeout(20*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ts.Close()) })
	other, err := sqlite.Open(t.Context(), path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, other.Close()) })
	conn, err := other.DB().Conn(t.Context())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = conn.ExecContext(t.Context(), "BEGIN IMMEDIATE") // the other process's write lock
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = conn.ExecContext(context.Background(), "ROLLBACK") })

	h, err := NewHandler(taskcreate.New(ts, taskcreate.WithRetry(3, time.Millisecond)), Options{Token: testToken})
	require.NoError(t, err)
	w := serve(h, newRequest(Path, testToken, strings.NewReader(seedBody)))
	require.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
	require.Equal(t, "1", w.Header().Get("Retry-After"))
	require.Contains(t, w.Body.String(), `"errorCode":"STORE_BUSY"`)
}
