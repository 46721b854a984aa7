package sqlite_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/taskcreate"
)

// An in-memory database is a full store that lives as long as the Store:
// the way to test a service that creates tasks, with no server and no files.
func Example_inMemory() {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	qty, confidence := 12, 0.82
	err = store.PutActionVectors(ctx, []taskcreate.ActionVector{{
		OrganizationID: "org-1", VariantID: "sku-42", ShopID: "paris-01",
		SnapshotDate: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), Domain: taskcreate.Restock,
		RecommendedQty: &qty, Confidence: &confidence, Snapshot: json.RawMessage(`{"daysOfCover":2.5}`),
	}})
	if err != nil {
		log.Fatal(err)
	}

	svc := taskcreate.New(store)
	res, err := svc.CreateTasks(ctx, taskcreate.Request{
		OrganizationID: "org-1", WorkflowRunID: "run-1",
		Domains: []taskcreate.Domain{taskcreate.Restock}, MinConfidence: 0.6,
		Perimeter: []taskcreate.Pair{{VariantID: "sku-42", ShopID: "paris-01"}, {VariantID: "sku-7", ShopID: "paris-01"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("created=%d updated=%d unmatched=%d\n", res.Created, res.Updated, res.Unmatched)

	tasks, err := store.ListTasks(ctx, taskcreate.TaskFilter{OrganizationID: "org-1"})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tasks {
		fmt.Println(t.Domain, t.ShopID, t.VariantID, t.Status, *t.RecommendedQty, string(t.Evidence))
	}
	// Output:
	// created=1 updated=0 unmatched=1
	// restock paris-01 sku-42 OPEN 12 {"daysOfCover":2.5}
}

// A service opens the store once, on a file, and calls CreateTasks for
// every workflow run. An invalid request never reaches the database: its
// ValidationError names every bad field by its JSON path.
func ExampleOpen() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "tasks-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, err := sqlite.Open(ctx, filepath.Join(dir, "tasks.db")) // opens, configures, migrates
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.PutActionVectors(ctx, dayOfRecommendations()); err != nil { // the data platform's mirror
		log.Fatal(err)
	}

	svc := taskcreate.New(store) // options: WithDefaultPriority, WithMaxPerimeter, WithRetry, WithRetireBudget, ...
	res, err := svc.CreateTasks(ctx, taskcreate.Request{
		OrganizationID: "org-1", WorkflowRunID: "run-1", MinConfidence: 0.6,
		Domains:   []taskcreate.Domain{taskcreate.Restock, taskcreate.Markdown},
		Perimeter: []taskcreate.Pair{{VariantID: "sku-42", ShopID: "paris-01"}, {VariantID: "sku-7", ShopID: "lyon-02"}},
	})
	if err != nil {
		log.Fatal(err) // nothing was written, unless errors.Is(err, taskcreate.ErrOutcomeUnknown)
	}
	fmt.Printf("created %d, updated %d, suppressed %d, skipped %d, unmatched %d\n",
		res.Created, res.Updated, res.Suppressed, res.Skipped, res.Unmatched)

	_, err = svc.CreateTasks(ctx, taskcreate.Request{OrganizationID: "org-1", MinConfidence: 1.5,
		Domains: []taskcreate.Domain{"weekly"}, Perimeter: []taskcreate.Pair{{VariantID: "sku-42"}}})
	var invalid *taskcreate.ValidationError
	if errors.As(err, &invalid) { // a 400 for the caller: nothing was read or written
		for _, f := range invalid.Fields {
			fmt.Printf("invalid %s: %s\n", f.Field, f.Code)
		}
	}
	// Output:
	// created 2, updated 0, suppressed 1, skipped 0, unmatched 1
	// invalid workflowRunId: MISSING_REQUIRED_FIELD
	// invalid domains[0]: VALIDATION_ERROR
	// invalid minConfidence: VALIDATION_ERROR
	// invalid perimeter[0].shopId: MISSING_REQUIRED_FIELD
}

// A service's own tests run on an in-memory store and fix the clock and the
// ids, so that they can assert on whole tasks.
func Example_fixedClockAndIDs() {
	ctx := context.Background()
	store := recommendedStore(ctx)
	defer store.Close()

	now := time.Date(2026, 11, 27, 6, 30, 0, 0, time.UTC)
	var ids uint64
	svc := taskcreate.New(store,
		taskcreate.WithClock(func() time.Time { return now }),
		taskcreate.WithIDSource(func() (uuid.UUID, error) {
			ids++
			var id uuid.UUID
			binary.BigEndian.PutUint64(id[8:], ids)
			return id, nil
		}),
	)
	_, err := svc.CreateTasks(ctx, taskcreate.Request{
		OrganizationID: "org-1", WorkflowRunID: "run-1",
		Domains:   []taskcreate.Domain{taskcreate.Restock},
		Perimeter: []taskcreate.Pair{{VariantID: "sku-42", ShopID: "paris-01"}},
	})
	if err != nil {
		log.Fatal(err)
	}

	tasks, err := store.ListTasks(ctx, taskcreate.TaskFilter{OrganizationID: "org-1", WorkflowRunID: "run-1"})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tasks {
		fmt.Println(t.ID, t.Status, t.Priority, t.CreatedAt.Format(time.RFC3339))
	}
	// Output:
	// 00000000-0000-0000-0000-000000000001 OPEN MEDIUM 2026-11-27T06:30:00Z
}

// With an OpenTelemetry SDK, a call records a span, with a child span per
// statement of the store, and its metrics.
func Example_telemetry() {
	ctx := context.Background()
	store := recommendedStore(ctx)
	defer store.Close()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	svc := taskcreate.New(store,
		taskcreate.WithTracerProvider(tp), // default: otel.GetTracerProvider()
		taskcreate.WithMeterProvider(mp),  // default: otel.GetMeterProvider()
	)
	req := taskcreate.Request{OrganizationID: "org-1", WorkflowRunID: "run-1", Domains: []taskcreate.Domain{taskcreate.Restock}}
	req.Perimeter = []taskcreate.Pair{{VariantID: "sku-42", ShopID: "paris-01"}}
	if _, err := svc.CreateTasks(ctx, req); err != nil {
		log.Fatal(err)
	}

	for _, s := range spans.Ended() {
		fmt.Printf("span %s (%s): %s\n", s.Name(), s.SpanKind(), attributeNames(attribute.NewSet(s.Attributes()...)))
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			var set attribute.Set
			switch data := m.Data.(type) {
			case metricdata.Histogram[float64]:
				set = data.DataPoints[0].Attributes
			case metricdata.Sum[int64]:
				set = data.DataPoints[0].Attributes
			}
			fmt.Printf("metric %s (%s): %s\n", m.Name, m.Unit, attributeNames(set))
		}
	}
	// Output:
	// span INSERT actionvector_task_candidate (client): db.collection.name db.operation.batch.size db.operation.name db.system.name
	// span INSERT tasks (client): db.collection.name db.operation.batch.size db.operation.name db.system.name
	// span SELECT tasks (client): db.collection.name db.operation.batch.size db.operation.name db.system.name
	// span CreateTasks (internal): actionvector.attempts actionvector.candidates actionvector.dry_run actionvector.operation actionvector.organization.id actionvector.tasks.created actionvector.tasks.retired actionvector.tasks.skipped actionvector.tasks.suppressed actionvector.tasks.unmatched actionvector.tasks.updated actionvector.workflow_run.id
	// metric actionvector.tasks.call.duration (s): actionvector.dry_run actionvector.operation actionvector.result
	// metric actionvector.tasks.candidates ({candidate}): actionvector.dry_run actionvector.outcome
}

// attributeNames lists the attribute names of set, in order.
func attributeNames(set attribute.Set) string {
	var names []string
	for _, kv := range set.ToSlice() {
		names = append(names, string(kv.Key))
	}
	return strings.Join(names, " ")
}

// dayOfRecommendations returns a day of action vectors of org-1: a confident
// restock and a confident markdown in Paris, a doubtful restock in Lyon.
func dayOfRecommendations() []taskcreate.ActionVector {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	qty, pct, sure, doubtful := 12, 20.0, 0.82, 0.4
	return []taskcreate.ActionVector{
		{OrganizationID: "org-1", VariantID: "sku-42", ShopID: "paris-01", SnapshotDate: day, Domain: taskcreate.Restock,
			RecommendedQty: &qty, Confidence: &sure, Snapshot: json.RawMessage(`{"daysOfCover":2.5}`)},
		{OrganizationID: "org-1", VariantID: "sku-42", ShopID: "paris-01", SnapshotDate: day, Domain: taskcreate.Markdown,
			RecommendedDiscountPct: &pct, Confidence: &sure, Snapshot: json.RawMessage(`{"weeksOfStock":14}`)},
		{OrganizationID: "org-1", VariantID: "sku-7", ShopID: "lyon-02", SnapshotDate: day, Domain: taskcreate.Restock,
			RecommendedQty: &qty, Confidence: &doubtful, Snapshot: json.RawMessage(`{"daysOfCover":4}`)},
	}
}

// recommendedStore returns an in-memory store holding
// dayOfRecommendations.
func recommendedStore(ctx context.Context) *sqlite.Store {
	store, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	if err := store.PutActionVectors(ctx, dayOfRecommendations()); err != nil {
		log.Fatal(err)
	}
	return store
}
