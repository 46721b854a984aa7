package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/store/postgres"

	"github.com/actionvector/tasks/storetest/benchfixture"
	"github.com/actionvector/tasks/taskcreate"
)

// BenchmarkCreateTasks measures CreateTasks over all three domains on the
// server named by TASKS_TEST_POSTGRES_URL, in a schema of its own seeded
// with the benchmark fixture (see examples/bench for the full comparison
// with the floors). Compare runs with benchstat.
func BenchmarkCreateTasks(b *testing.B) {
	for _, pairs := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("pairs=%d", pairs), func(b *testing.B) {
			s, _, fx, clear := seededStore(b, pairs)
			benchfixture.RunCreateAndUpdate(b, fx, taskcreate.New(s), clear)
		})
	}
}

// BenchmarkCreateTasksVia compares the same calls on one seeded schema
// through a database/sql pool (New), through a pgx pool (NewFromPool), and
// in a pgx transaction of the caller's (WithPgxTx), interleaved: the pgx
// ones must not be slower.
//
// Every contender starts on pools of its own, opened after the seeding: a
// backend that has loaded the fixture runs the 1,000-pair call in about
// 30% less time than a fresh one, for the life of its connection, which
// would favour whichever contender inherited it. For the same reason the
// tasks are cleared on a connection of no contender's.
func BenchmarkCreateTasksVia(b *testing.B) {
	for _, pairs := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("pairs=%d", pairs), func(b *testing.B) {
			_, schema, fx, _ := seededStore(b, pairs)
			url := single.appURL(b)
			db := openDB(b, url)
			clearer := openDB(b, url)
			pool, err := pgxpool.New(b.Context(), url)
			if err != nil {
				b.Fatal(err)
			}
			defer pool.Close()
			viaPool := postgres.NewFromPool(pool, tablesIn(schema)...)
			benchfixture.CompareCreateAndUpdate(b, fx, truncate(clearer, schema+".tasks"),
				benchfixture.Contender{Name: "sql", Service: taskcreate.New(postgres.New(db, tablesIn(schema)...))},
				benchfixture.Contender{Name: "pgxpool", Service: taskcreate.New(viaPool)},
				benchfixture.Contender{Name: "pgxtx", Service: taskcreate.New(inPgxTx{pool, viaPool})},
			)
		})
	}
}

// BenchmarkLayout compares, interleaved, the calls on today's tasks table
// with the same calls on the first layout (0001 alone: the run index, and
// pages filled to the brim), where no refresh can be a HOT update. Both
// read one seeded action-vector table; each writes a tasks table of its
// own, on fresh connections of its own.
func BenchmarkLayout(b *testing.B) {
	for _, pairs := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("pairs=%d", pairs), func(b *testing.B) {
			_, schema, fx, _ := seededStore(b, pairs)
			first := newSchema(b)
			url := single.appURL(b)
			clearer := openDB(b, url)
			now := postgres.New(openDB(b, url), tablesIn(schema)...)
			then := postgres.New(openDB(b, url), postgres.WithTasksTable(first+".tasks"), postgres.WithActionVectorTable(schema+".action_vector"))
			if err := then.Migrate(b.Context()); err != nil {
				b.Fatal(err)
			}
			for _, ddl := range firstLayout(first) {
				if _, err := clearer.ExecContext(b.Context(), ddl); err != nil {
					b.Fatal(err)
				}
			}
			benchfixture.CompareCreateAndUpdate(b, fx, truncate(clearer, schema+".tasks", first+".tasks"),
				benchfixture.Contender{Name: "first", Service: taskcreate.New(then), OwnTasks: true},
				benchfixture.Contender{Name: "now", Service: taskcreate.New(now), OwnTasks: true},
			)
		})
	}
}

// BenchmarkSweep measures a sweep, and its dry run, of a run that owns
// 1,000 of an organization's 300,000 open tasks (and 100,000 done ones), on
// today's layout, where the run has no index and the sweep reads the
// organization's open tasks, against the first layout's run index,
// interleaved. The tasks are written by SQL, not by calls.
func BenchmarkSweep(b *testing.B) {
	url := single.appURL(b)
	db := openDB(b, url)
	var contenders []sweepContender
	for _, name := range []string{"first", "now"} {
		s := newStore(b)
		schema := storeSchema(s)
		seed := []string{`INSERT INTO ` + schema + `.tasks
			SELECT gen_random_uuid(), 'org', 'ACTION_VECTOR', (ARRAY['restock', 'rebalance', 'markdown'])[1 + i % 3],
			       'shop-' || (i / 3) % 50, 'variant-' || (i / 150), 'OPEN', 'MEDIUM',
			       CASE WHEN i % 300 = 0 THEN 'run-swept' ELSE 'run-' || i % 7 END, current_date, 5, NULL, 0.9,
			       ('{"daysOfCover": 1.5, "why": "' || repeat('x', 250) || '"}')::jsonb, now(), now()
			FROM generate_series(0, 299999) i`,
			`INSERT INTO ` + schema + `.tasks
			SELECT gen_random_uuid(), 'org', 'ACTION_VECTOR', 'restock', 'shop-done', 'variant-' || i, 'DONE', 'MEDIUM',
			       'run-old', current_date, 5, NULL, 0.9, '{}', now(), now()
			FROM generate_series(1, 100000) i`,
		}
		if name == "first" {
			seed = append(seed, firstLayout(schema)...)
		}
		seed = append(seed, `VACUUM ANALYZE `+schema+`.tasks`)
		for _, stmt := range seed {
			if _, err := db.ExecContext(b.Context(), stmt); err != nil {
				b.Fatal(err)
			}
		}
		store := postgres.New(openDB(b, url), tablesIn(schema)...)
		contenders = append(contenders, sweepContender{name, schema, taskcreate.New(store)})
	}
	names := []string{contenders[0].name, contenders[1].name}
	for _, dry := range []bool{true, false} {
		b.Run(fmt.Sprintf("dryRun=%t", dry), func(b *testing.B) {
			benchfixture.Interleave(b, names, func(b *testing.B, i int) {
				// The run's tasks are OPEN again before each sweep (a dry
				// run leaves them so).
				if _, err := db.ExecContext(b.Context(), `UPDATE `+contenders[i].schema+`.tasks SET status = 'OPEN' WHERE workflow_run_id = 'run-swept' AND status <> 'OPEN'`); err != nil {
					b.Fatal(err)
				}
			}, func(b *testing.B, i int) {
				c := contenders[i]
				res, err := c.svc.SweepRun(b.Context(), taskcreate.SweepRequest{OrganizationID: "org", WorkflowRunID: "run-swept", DryRun: dry})
				if err != nil || res.Dismissed != 1000 {
					b.Fatalf("%s: dismissed %d, %v; want 1000", c.name, res.Dismissed, err)
				}
			})
		})
	}
}

type sweepContender struct {
	name, schema string
	svc          *taskcreate.Service
}

// firstLayout returns the statements that take the tasks table of schema,
// migrated, back to the first layout (0001 alone): its run index, and
// pages filled to the brim.
func firstLayout(schema string) []string {
	return []string{
		`CREATE INDEX tasks_run_idx ON ` + schema + `.tasks (organization_id, workflow_run_id)`,
		`ALTER TABLE ` + schema + `.tasks RESET (fillfactor)`,
	}
}

// truncate returns the function that empties tables on db, a connection
// of no contender's.
func truncate(db *sql.DB, tables ...string) func(*testing.B) {
	return func(b *testing.B) {
		if _, err := db.ExecContext(b.Context(), `TRUNCATE `+strings.Join(tables, ", ")); err != nil {
			b.Fatal(err)
		}
	}
}

// openDB opens a database/sql pool on url, closed when b ends.
func openDB(b *testing.B, url string) *sql.DB {
	db, err := sql.Open("pgx", url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// inPgxTx runs each call in a pgx transaction begun on pool and committed
// after it, the store bound to it with WithPgxTx, as a service that adds
// its own writes to the call's would.
type inPgxTx struct {
	pool  *pgxpool.Pool
	store *postgres.Store
}

func (t inPgxTx) MaterializeTasks(ctx context.Context, b *store.Batch) (store.Outcome, error) {
	return inTx(ctx, t.pool, func(tx pgx.Tx) (store.Outcome, error) { return t.store.WithPgxTx(tx).MaterializeTasks(ctx, b) })
}

func (t inPgxTx) SweepTasks(ctx context.Context, s *store.Sweep) (int, error) {
	return inTx(ctx, t.pool, func(tx pgx.Tx) (int, error) { return t.store.WithPgxTx(tx).SweepTasks(ctx, s) })
}

// inTx runs f in a transaction begun on pool, committed if f succeeds.
func inTx[T any](ctx context.Context, pool *pgxpool.Pool, f func(pgx.Tx) (T, error)) (T, error) {
	var zero T
	tx, err := pool.Begin(ctx)
	if err != nil {
		return zero, err
	}
	defer tx.Rollback(ctx) // a no-op after Commit
	v, err := f(tx)
	if err != nil {
		return zero, err
	}
	return v, tx.Commit(ctx)
}

// seededStore returns a store in a schema of its own seeded with the
// fixture of pairs pairs, and the function that empties its tasks.
func seededStore(b *testing.B, pairs int) (*postgres.Store, string, *benchfixture.Fixture, func(*testing.B)) {
	s := newStore(b)
	schema := storeSchema(s)
	fx := benchfixture.New(benchfixture.Config{Pairs: pairs, Seed: 1})
	for rows := range fx.Rows(50_000) {
		if err := s.PutActionVectors(b.Context(), rows); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.DB().ExecContext(b.Context(), `VACUUM ANALYZE `+schema+`.action_vector`); err != nil {
		b.Fatal(err)
	}
	return s, schema, fx, func(b *testing.B) {
		if _, err := s.DB().ExecContext(b.Context(), `TRUNCATE `+schema+`.tasks`); err != nil {
			b.Fatal(err)
		}
	}
}
