package postgres_test

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

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

// BenchmarkCreateTasksVia measures the same calls on one seeded schema
// through a database/sql pool (New) and through a pgx pool (NewFromPool):
// the second must not be slower.
func BenchmarkCreateTasksVia(b *testing.B) {
	for _, pairs := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("pairs=%d", pairs), func(b *testing.B) {
			s, schema, fx, clear := seededStore(b, pairs)
			pool, err := pgxpool.New(b.Context(), single.appURL(b))
			if err != nil {
				b.Fatal(err)
			}
			defer pool.Close()
			viaPool := postgres.NewFromPool(pool, tablesIn(schema)...)
			for _, via := range []struct {
				name  string
				store *postgres.Store
			}{{"database-sql", s}, {"pgxpool", viaPool}} {
				b.Run("via="+via.name, func(b *testing.B) { benchfixture.RunCreateAndUpdate(b, fx, taskcreate.New(via.store), clear) })
			}
		})
	}
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
