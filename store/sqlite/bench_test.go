package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"

	tasksqlite "github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/storetest/benchfixture"
	"github.com/actionvector/tasks/taskcreate"
)

// BenchmarkCreateTasks measures CreateTasks over all three domains on a
// file database seeded with the benchmark fixture (see examples/bench for
// the full comparison with the floors). Compare runs with benchstat.
func BenchmarkCreateTasks(b *testing.B) {
	for _, pairs := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("pairs=%d", pairs), func(b *testing.B) {
			s, err := tasksqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			fx := benchfixture.New(benchfixture.Config{Pairs: pairs, Seed: 1})
			for rows := range fx.Rows(20_000) {
				if err := s.PutActionVectors(b.Context(), rows); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := s.DB().ExecContext(b.Context(), `ANALYZE`); err != nil {
				b.Fatal(err)
			}
			benchfixture.RunCreateAndUpdate(b, fx, taskcreate.New(s), func(b *testing.B) {
				if _, err := s.DB().ExecContext(b.Context(), `DELETE FROM tasks`); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
