package main

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/storetest/benchfixture"
	"github.com/actionvector/tasks/taskcreate"
)

// adapter is what the program needs of a store of this module.
type adapter interface {
	taskcreate.TaskStore
	PutActionVectors(ctx context.Context, rows []taskcreate.ActionVector) error
}

// database is one store under measurement, and the SQL of the floors and
// of the naive baseline on the same database.
type database interface {
	Name() string     // "sqlite" or "postgres", as BENCH lines say
	Adapter() adapter // the store CreateTasks runs on
	DB() *sql.DB      // the store's pool
	Version(ctx context.Context) (string, error)
	Analyze(ctx context.Context) error    // after seeding, so plans are those of a real table
	ClearTasks(ctx context.Context) error // empties the tasks table
	Settle(ctx context.Context) error     // flushes pending writes so no timed call pays for the previous one
	Floors(ctx context.Context, req taskcreate.Request) (floors, error)
	Naive() naiveSQL
	Close(ctx context.Context) error
}

// floors are the bare reads and writes of the last CreateTasks call: the
// rows it wrote, copied to a staging table and into memory, and its
// perimeter and latest snapshot dates, staged on the server, by
// database.Floors.
type floors interface {
	Rows() int
	ReadFR(ctx context.Context) (int, error) // F_R: the latest action vectors of the perimeter, read server-side; returns the rows read
	ClearF1(ctx context.Context) error
	LoadF1(ctx context.Context) error // F1: client to unindexed table
	ClearF3(ctx context.Context) error
	UpsertF3(ctx context.Context, runID string) error                       // F3: staging table to indexed table, server-side, as a call of runID
	CallFloor(ctx context.Context, runID string) error                      // F_RW: F_R then F3 in one transaction, begun as a call's
	CountF3(ctx context.Context, runID string) (rows, ofRun int, err error) // the rows of the F3 table, and those of runID
}

// floorTables are the steps of database.Floors that differ between the
// databases.
type floorTables interface {
	// stagePerimeter writes the pairs of in and the latest snapshot date
	// of each of its domains into tables of their own.
	stagePerimeter(ctx context.Context, in batchInput) error
	// createFloorTables copies the tasks table's rows into the staging
	// table, in key order, and creates the empty tables of F1 and F3.
	createFloorTables(ctx context.Context) error
}

// stagedFloors are floors that read the staged rows into memory.
type stagedFloors interface {
	floors
	readStaged(ctx context.Context) error
}

// stageFloors is database.Floors on the steps of one database: it stages
// the perimeter of req, creates the floor tables, and reads the staged
// rows into f.
func stageFloors(ctx context.Context, db floorTables, req taskcreate.Request, f stagedFloors) (floors, error) {
	if err := db.stagePerimeter(ctx, newBatchInput(req)); err != nil {
		return nil, err
	}
	if err := db.createFloorTables(ctx); err != nil {
		return nil, err
	}
	if err := f.readStaged(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

// pool is the database/sql pool of a store under measurement, with the
// name of the database its errors start with. Both databases embed it.
type pool struct {
	db   *sql.DB
	kind string // "postgres" or "sqlite"
}

// DB returns the store's pool.
func (p pool) DB() *sql.DB { return p.db }

// execer is a pool, a connection or a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// exec runs a statement that returns no rows.
func (p pool) exec(ctx context.Context, query string, args ...any) error {
	if _, err := p.db.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("%s: %w", p.kind, err)
	}
	return nil
}

// text returns the single value of a query of one row and one column.
func (p pool) text(ctx context.Context, query string) (string, error) {
	var v string
	err := p.db.QueryRowContext(ctx, query).Scan(&v)
	return v, err
}

// seedChunk bounds the rows held in memory while seeding.
const seedChunk = 50_000

// seedFixture writes the action vectors of fx to db, seedChunk rows at a
// time, and returns how many it wrote and the bytes of their evidence.
func seedFixture(ctx context.Context, db database, fx *benchfixture.Fixture) (rows, evidenceBytes int, err error) {
	for chunk := range fx.Rows(seedChunk) {
		for _, v := range chunk {
			evidenceBytes += len(v.Snapshot)
		}
		rows += len(chunk)
		if err := db.Adapter().PutActionVectors(ctx, chunk); err != nil {
			return rows, evidenceBytes, fmt.Errorf("seeding: %w", err)
		}
	}
	return rows, evidenceBytes, nil
}

// newService returns the service under measurement on db, allowed a
// perimeter of every pair of the fixture.
func newService(cfg config, db database, opts ...taskcreate.Option) *taskcreate.Service {
	limit := taskcreate.WithMaxPerimeter(max(cfg.pairs, taskcreate.DefaultMaxPerimeter))
	return taskcreate.New(db.Adapter(), append([]taskcreate.Option{limit}, opts...)...)
}

// outcomeOf returns the counts of a CreateTasks result as a store.Outcome.
func outcomeOf(res taskcreate.Result) store.Outcome {
	return store.Outcome{Created: res.Created, Updated: res.Updated, Suppressed: res.Suppressed,
		Skipped: res.Skipped, Unmatched: res.Unmatched}
}

// counts are the counts of o, which can be compared.
func counts(o store.Outcome) [6]int {
	return [6]int{o.Created, o.Updated, o.Suppressed, o.Skipped, o.Unmatched, o.Retired}
}
