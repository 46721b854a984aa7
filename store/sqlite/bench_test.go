package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/actionvector/tasks/internal/benchfixture"
	tasksqlite "github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/taskcreate"
)

// BenchmarkCreateTasks measures CreateTasks over all three domains on a
// file database seeded with the benchmark fixture (see examples/bench for
// the full comparison with the floors). "create" starts every iteration
// from an empty tasks table; "update" repeats the request by a new run on
// the full table. Compare runs with benchstat.
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
			svc := taskcreate.New(s)
			req := fx.Request("", -1)
			eligible := fx.Expected(-1).Created
			run := 0
			createTasks := func(b *testing.B, wantCreated int) {
				run++
				req.WorkflowRunID = fmt.Sprintf("bench-run-%d", run)
				res, err := svc.CreateTasks(b.Context(), req)
				if err != nil {
					b.Fatal(err)
				}
				if res.Created != wantCreated || res.Created+res.Updated != eligible {
					b.Fatalf("created %d, updated %d; want %d created of %d eligible", res.Created, res.Updated, wantCreated, eligible)
				}
			}
			clearTasks := func(b *testing.B) {
				if _, err := s.DB().ExecContext(b.Context(), `DELETE FROM tasks`); err != nil {
					b.Fatal(err)
				}
			}

			b.Run("create", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					clearTasks(b)
					b.StartTimer()
					createTasks(b, eligible)
				}
				reportCandidates(b, len(req.Perimeter)*len(req.Domains))
			})
			b.Run("update", func(b *testing.B) {
				clearTasks(b)
				createTasks(b, eligible)
				b.ReportAllocs()
				for b.Loop() {
					createTasks(b, 0)
				}
				reportCandidates(b, len(req.Perimeter)*len(req.Domains))
			})
		})
	}
}

// reportCandidates adds the candidates of one call and the time per
// candidate, the figure that compares across sizes.
func reportCandidates(b *testing.B, candidates int) {
	b.ReportMetric(float64(candidates), "candidates/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(candidates), "ns/candidate")
}
