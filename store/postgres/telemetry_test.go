package postgres_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/actionvector/tasks/store/postgres"
	"github.com/actionvector/tasks/taskcreate"
)

// queryTracer is a pgx.QueryTracer that remembers the span each query ran
// under, as a driver-level tracer such as otelpgx sees it.
type queryTracer struct {
	mu      sync.Mutex
	parents map[trace.SpanID][]string
}

func (q *queryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	q.mu.Lock()
	defer q.mu.Unlock()
	id := trace.SpanFromContext(ctx).SpanContext().SpanID()
	q.parents[id] = append(q.parents[id], data.SQL)
	return ctx
}

func (*queryTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A pgx tracer on a pool the caller opens, as the README shows, sees every
// statement of a call inside the store's span of that statement, and each
// of those inside the call's span; the store's spans carry the database
// attributes.
func TestStatementSpansHoldTheDriversQueries(t *testing.T) {
	schema := newSchema(t)
	cfg, err := pgx.ParseConfig(testURL(t))
	require.NoError(t, err)
	cfg.RuntimeParams["search_path"] = schema
	tracer := &queryTracer{parents: map[trace.SpanID][]string{}}
	cfg.Tracer = tracer
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { db.Close() })

	ctx := context.Background()
	store := postgres.New(db)
	require.NoError(t, store.Migrate(ctx))
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	qty, confidence := 5, 0.9
	require.NoError(t, store.PutActionVectors(ctx, []taskcreate.ActionVector{{OrganizationID: "org-1", VariantID: "v-1", ShopID: "s-1",
		SnapshotDate: day, Domain: taskcreate.Restock, RecommendedQty: &qty, Confidence: &confidence, Snapshot: json.RawMessage(`{}`)}}))

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	svc := taskcreate.New(store, taskcreate.WithTracerProvider(tp))
	res, err := svc.CreateTasks(ctx, taskcreate.Request{OrganizationID: "org-1", WorkflowRunID: "run-1", Domains: taskcreate.Domains(),
		RetireStale: true, Perimeter: []taskcreate.Pair{{VariantID: "v-1", ShopID: "s-1"}, {VariantID: "v-2", ShopID: "s-1"}}})
	require.NoError(t, err)
	require.Equal(t, 1, res.Created)

	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	var call sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		byID[s.SpanContext().SpanID()] = s
		if s.Name() == "CreateTasks" {
			call = s
		}
	}
	require.NotNil(t, call)

	tracer.mu.Lock()
	defer tracer.mu.Unlock()
	var statements int
	for parent, queries := range tracer.parents {
		s, ok := byID[parent]
		if !ok || s == call {
			continue // the migration, BEGIN and COMMIT run outside any statement's span
		}
		statements += len(queries)
		assert.Equal(t, trace.SpanKindClient, s.SpanKind(), "%s holds %q", s.Name(), queries)
		assert.Equal(t, call.SpanContext().SpanID(), s.Parent().SpanID(), "%s is a child of the call", s.Name())
		want := map[attribute.Key]string{"db.system.name": "postgresql", "db.collection.name": "tasks"}
		for _, kv := range s.Attributes() {
			if w, ok := want[kv.Key]; ok {
				assert.Equal(t, w, kv.Value.AsString(), "%s: %s", s.Name(), kv.Key)
				delete(want, kv.Key)
			}
		}
		assert.Empty(t, want, "%s lacks attributes", s.Name())
	}
	// One statement classifies, retires, writes and counts.
	assert.Equal(t, 1, statements, "queries inside the store's spans")
}
