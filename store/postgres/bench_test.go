package postgres_test

import (
	"fmt"
	"testing"

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
			benchfixture.RunCreateAndUpdate(b, fx, taskcreate.New(s), func(b *testing.B) {
				if _, err := s.DB().ExecContext(b.Context(), `TRUNCATE `+schema+`.tasks`); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
