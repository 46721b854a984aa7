package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/actionvector/tasks/internal/migration"
	"github.com/actionvector/tasks/internal/sqldb"
	tasksqlite "github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/taskcreate"
)

func TestInvalidOptionsFailWhenTheStoreIsBuilt(t *testing.T) {
	tests := map[string]tasksqlite.Option{
		"WithClock":       tasksqlite.WithClock(nil),
		"WithBusyTimeout": tasksqlite.WithBusyTimeout(-time.Second),
		"WithChunkSize":   tasksqlite.WithChunkSize(0),
	}
	for name, opt := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := tasksqlite.Open(t.Context(), ":memory:", opt); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("Open with a bad %s: want an error naming it, got %v", name, err)
			}
			if msg := panicOf(func() { tasksqlite.New(&sql.DB{}, opt) }); !strings.Contains(msg, name) {
				t.Errorf("New with a bad %s: want a panic naming it, got %q", name, msg)
			}
		})
	}
	if msg := panicOf(func() { tasksqlite.New(nil) }); !strings.Contains(msg, "nil *sql.DB") {
		t.Errorf("New(nil): want a panic naming the nil pool, got %q", msg)
	}
}

// panicOf returns what f panics with, or "" if it returns.
func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// The migration runner is shared by both adapters; it is tested here, on
// the driver this package already carries, so that the runner's own tests
// put no database driver in the module graph of a PostgreSQL-only user.
func TestApplyRunsEachMigrationOnceInOrder(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, `CREATE TABLE applied (version INTEGER PRIMARY KEY, name TEXT); CREATE TABLE log (step TEXT)`); err != nil {
		t.Fatal(err)
	}
	d := migration.Dialect{
		Current: `SELECT coalesce(max(version), 0) FROM applied`,
		Record:  `INSERT INTO applied (version, name) VALUES (?1, ?2)`,
		Wrap:    func(step string, err error) error { return fmt.Errorf("%s: %w", step, err) },
	}
	step := func(v int, name string) migration.Migration {
		return migration.Migration{Version: v, Name: name, SQL: `INSERT INTO log VALUES ('` + name + `')`}
	}
	first := []migration.Migration{step(1, "1_a.sql"), step(2, "2_b.sql")}
	later := append(first, step(5, "5_c.sql"))
	for _, ms := range [][]migration.Migration{first, first, later, later} {
		if err := migration.Apply(ctx, sqldb.Std(db), d, ms); err != nil {
			t.Fatalf("Apply: %v", err)
		}
	}
	var log string
	if err := db.QueryRowContext(ctx, `SELECT group_concat(step, ' ') FROM log`).Scan(&log); err != nil {
		t.Fatal(err)
	}
	if want := "1_a.sql 2_b.sql 5_c.sql"; log != want {
		t.Errorf("migrations run: got %q, want %q", log, want)
	}
	err = migration.Apply(ctx, sqldb.Std(db), d, first)
	if err == nil || !strings.Contains(err.Error(), "version 5 is newer than this library's 2") {
		t.Errorf("Apply of an older set: want an error naming both versions, got %v", err)
	}
}

// A call on a real store: the store's statements are children of the
// call's span, with the database attributes; and no attribute, event or
// metric names a variant or a shop of the perimeter.
func TestTelemetryOfStatementsNamesNoPosition(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer tp.Shutdown(context.Background())
	defer mp.Shutdown(context.Background())
	ctx := t.Context()
	ts, err := tasksqlite.Open(ctx, ":memory:")
	require.NoError(t, err)
	defer ts.Close()
	putRestockIn(t, ts, "org-1", time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), map[string]int{"sku-secret-1": 3, "sku-secret-2": 0})
	svc := taskcreate.New(ts, taskcreate.WithTracerProvider(tp), taskcreate.WithMeterProvider(mp))
	req := taskcreate.Request{OrganizationID: "org-1", WorkflowRunID: "run-1", Domains: taskcreate.Domains(), RetireStale: true, ReturnOutcomes: true,
		Perimeter: []taskcreate.Pair{{VariantID: "sku-secret-1", ShopID: "paris-01"}, {VariantID: "sku-secret-2", ShopID: "paris-01"}}}
	_, err = svc.CreateTasks(ctx, req)
	require.NoError(t, err)
	bad := req
	bad.Perimeter = append(bad.Perimeter, taskcreate.Pair{VariantID: "sku-secret-3\x00", ShopID: "paris-01"})
	_, err = svc.CreateTasks(ctx, bad)
	require.Error(t, err)

	call := spans.Ended()
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
		a := map[string]string{}
		for _, kv := range s.Attributes() {
			a[string(kv.Key)] = kv.Value.String()
		}
		if a["db.system.name"] == "sqlite" {
			statements++
			assert.NotEmpty(t, a["db.operation.name"])
			assert.NotEmpty(t, a["db.collection.name"])
			assert.Equal(t, trace.SpanKindClient, s.SpanKind())
			assert.True(t, s.Parent().IsValid(), "a statement's span has the call's as parent")
		}
	}
	assert.GreaterOrEqual(t, statements, 4, "classify, upsert, count, retire and list, at least")
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			everything = append(everything, m.Name, fmt.Sprintf("%+v", m.Data))
		}
	}
	joined := strings.Join(everything, "\n")
	for _, id := range []string{"sku-secret", "paris-01"} {
		assert.NotContains(t, joined, id, "an identifier of the perimeter in the telemetry")
	}
}

// putRestockIn writes a day's restock recommendations of org in paris-01,
// a quantity per variant.
func putRestockIn(t *testing.T, s *tasksqlite.Store, org string, day time.Time, qty map[string]int) {
	t.Helper()
	var rows []taskcreate.ActionVector
	for variant, n := range qty {
		rows = append(rows, taskcreate.ActionVector{OrganizationID: org, VariantID: variant, ShopID: "paris-01",
			SnapshotDate: day, Domain: taskcreate.Restock, RecommendedQty: &n, Snapshot: json.RawMessage(`{}`)})
	}
	require.NoError(t, s.PutActionVectors(t.Context(), rows))
}
