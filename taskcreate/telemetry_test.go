package taskcreate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

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
	"github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/taskcreate"
)

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

// A call on a real store: the store's statements are children of the
// call's span, with the database attributes; and no attribute, event or
// metric names a variant or a shop of the perimeter.
func TestTelemetryOfStatementsNamesNoPosition(t *testing.T) {
	r := newRecorder(t)
	ctx := t.Context()
	ts, err := sqlite.Open(ctx, ":memory:")
	require.NoError(t, err)
	defer ts.Close()
	put(ctx, ts, time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), map[string]int{"sku-secret-1": 3, "sku-secret-2": 0})
	svc := taskcreate.New(ts, r.options()...)
	req := taskcreate.Request{OrganizationID: "org-1", WorkflowRunID: "run-1", Domains: taskcreate.Domains(), RetireStale: true, ReturnOutcomes: true,
		Perimeter: []taskcreate.Pair{{VariantID: "sku-secret-1", ShopID: "paris-01"}, {VariantID: "sku-secret-2", ShopID: "paris-01"}}}
	_, err = svc.CreateTasks(ctx, req)
	require.NoError(t, err)
	bad := req
	bad.Perimeter = append(bad.Perimeter, taskcreate.Pair{VariantID: "sku-secret-3\x00", ShopID: "paris-01"})
	_, err = svc.CreateTasks(ctx, bad)
	require.Error(t, err)

	call := r.spans.Ended()
	var statements int
	var everything []string
	for _, s := range call {
		for _, kv := range s.Attributes() {
			everything = append(everything, string(kv.Key)+"="+kv.Value.String())
		}
		for _, e := range s.Events() {
			everything = append(everything, e.Name)
			for _, kv := range e.Attributes {
				everything = append(everything, kv.Value.String())
			}
		}
		everything = append(everything, s.Name(), s.Status().Description)
		if a := attrs(s.Attributes()); a["db.system.name"] == "sqlite" {
			statements++
			assert.NotEmpty(t, a["db.operation.name"])
			assert.NotEmpty(t, a["db.collection.name"])
			assert.Equal(t, trace.SpanKindClient, s.SpanKind())
			assert.True(t, s.Parent().IsValid(), "a statement's span has the call's as parent")
		}
	}
	assert.GreaterOrEqual(t, statements, 4, "classify, upsert, count, retire and list, at least")
	for name, points := range r.metrics(t) {
		for set := range points {
			everything = append(everything, name+" "+set)
		}
	}
	joined := strings.Join(everything, "\n")
	for _, id := range []string{"sku-secret", "paris-01"} {
		assert.NotContains(t, joined, id, "an identifier of the perimeter in the telemetry")
	}
}
