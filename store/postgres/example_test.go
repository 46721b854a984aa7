package postgres_test

import (
	"context"
	"database/sql"
	"log"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"go.opentelemetry.io/otel"

	"github.com/actionvector/tasks/store/postgres"
	"github.com/actionvector/tasks/taskcreate"
)

// A service creates tasks in its own transaction, atomically with its own
// writes: if it rolls back, no task is created or changed.
func ExampleStore_WithTx() {
	ctx := context.Background()
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	store := postgres.New(db, postgres.WithActionVectorTable("gold_lakebase.action_vector"))
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback() // a no-op after Commit

	if _, err := tx.ExecContext(ctx, `UPDATE workflow_runs SET state = 'TASKS_CREATED' WHERE id = $1`, "workflow-run-uuid-abc123"); err != nil {
		log.Fatal(err)
	}
	res, err := taskcreate.New(store.WithTx(tx)).CreateTasks(ctx, taskcreate.Request{
		OrganizationID: "550e8400-e29b-41d4-a716-446655440001",
		WorkflowRunID:  "workflow-run-uuid-abc123",
		Domains:        []taskcreate.Domain{taskcreate.Restock},
		MinConfidence:  0.6,
		Perimeter:      []taskcreate.Pair{{VariantID: "variant-uuid-1", ShopID: "shop-uuid-1"}},
	})
	if err != nil {
		log.Fatal(err) // the deferred Rollback undoes the run's update too
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}
	log.Printf("created %d, updated %d", res.Created, res.Updated)
}

// A driver-level tracer, any pgx.QueryTracer such as otelpgx.NewTracer()
// from github.com/exaring/otelpgx, goes on a pool the caller opens. Its
// query spans nest under the store's statement spans, which nest under the
// call's.
func Example_queryTracer() {
	cfg, err := pgx.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	var tracer pgx.QueryTracer // otelpgx.NewTracer(), for one
	cfg.Tracer = tracer
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	store := postgres.New(db)
	if err := store.Migrate(context.Background()); err != nil {
		log.Fatal(err)
	}
	_ = taskcreate.New(store, taskcreate.WithTracerProvider(otel.GetTracerProvider()))
}

// Open connects, migrates and bounds the pool. The tasks table may live in
// a schema of the service's, and the action vectors are read from the
// mirror the data platform keeps, which the store only reads.
func ExampleOpen() {
	ctx := context.Background()
	store, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"), // any DSN pgx reads
		postgres.WithTasksTable("app.tasks"),                          // default "tasks"; the schema must exist
		postgres.WithActionVectorTable("gold_lakebase.action_vector"), // default "action_vector"
		postgres.WithMaxConns(20),                                     // default postgres.DefaultMaxConns, 10
	)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	perimeter := []taskcreate.Pair{{VariantID: "variant-uuid-7", ShopID: "shop-uuid-2"}, {VariantID: "variant-uuid-8", ShopID: "shop-uuid-2"}}
	res, err := taskcreate.New(store).CreateTasks(ctx, taskcreate.Request{
		OrganizationID: "550e8400-e29b-41d4-a716-446655440001", WorkflowRunID: "workflow-run-uuid-def456",
		Domains: taskcreate.Domains(), Perimeter: perimeter, // every domain, no confidence floor
	})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("created %d, updated %d", res.Created, res.Updated)
}

// On a Citus coordinator, WithCitus makes the distributed layout a
// requirement: Open fails on a database without the citus extension.
// Without it, the store finds Citus by itself.
func ExampleWithCitus() {
	ctx := context.Background()
	store, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"), postgres.WithCitus())
	if err != nil {
		log.Fatal(err) // not a Citus coordinator, or an action-vector table not distributed by organization_id
	}
	defer store.Close()
	_ = taskcreate.New(store) // every statement of a call runs on the worker of its organization
}

// A service on pgx builds the store on its own pool, which the store's
// calls then share with the service's other queries.
func ExampleNewFromPool() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	store := postgres.NewFromPool(pool) // Close leaves pool open
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	svc := taskcreate.New(store)
	_ = svc
}

// A service on pgx creates tasks in its own pgx transaction, atomically
// with its own writes: if it rolls back, no task is created or changed.
func ExampleStore_WithPgxTx() {
	const runID = "workflow-run-uuid-abc123"
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	store := postgres.NewFromPool(pool) // migrated as in the example of NewFromPool

	tx, err := pool.Begin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback(ctx) // a no-op after Commit

	// The service's own write, then the run's tasks, in one transaction.
	if _, err := tx.Exec(ctx, `UPDATE workflow_runs SET state = 'TASKS_CREATED' WHERE id = $1`, runID); err != nil {
		log.Fatal(err)
	}
	svc := taskcreate.New(store.WithPgxTx(tx))
	res, err := svc.CreateTasks(ctx, taskcreate.Request{
		OrganizationID: "550e8400-e29b-41d4-a716-446655440001",
		WorkflowRunID:  runID,
		Domains:        []taskcreate.Domain{taskcreate.Restock},
		MinConfidence:  0.6,
		Perimeter: []taskcreate.Pair{
			{VariantID: "variant-uuid-1", ShopID: "shop-uuid-1"},
		},
	})
	if err != nil {
		log.Fatal(err) // the deferred Rollback undoes the run's update too
	}
	if err := tx.Commit(ctx); err != nil {
		log.Fatal(err)
	}
	log.Printf("created %d, updated %d", res.Created, res.Updated)
}
