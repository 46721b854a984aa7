package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
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
			clear := func(b *testing.B) {
				if _, err := clearer.ExecContext(b.Context(), `TRUNCATE `+schema+`.tasks`); err != nil {
					b.Fatal(err)
				}
			}
			benchfixture.CompareCreateAndUpdate(b, fx, clear,
				benchfixture.Contender{Name: "sql", Service: taskcreate.New(postgres.New(db, tablesIn(schema)...))},
				benchfixture.Contender{Name: "pgxpool", Service: taskcreate.New(viaPool)},
				benchfixture.Contender{Name: "pgxtx", Service: taskcreate.New(inPgxTx{pool, viaPool})},
			)
		})
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
