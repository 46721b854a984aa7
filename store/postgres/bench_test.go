package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/actionvector/tasks/internal/benchfixture"
	"github.com/actionvector/tasks/store/postgres"
	"github.com/actionvector/tasks/taskcreate"
)

// BenchmarkCreateTasks measures CreateTasks over all three domains on the
// server named by TASKS_TEST_POSTGRES_URL, in a schema of its own seeded
// with the benchmark fixture (see examples/bench for the full comparison
// with the floors). "create" starts every iteration from an empty tasks
// table; "update" repeats the request by a new run on the full table.
// Compare runs with benchstat.
func BenchmarkCreateTasks(b *testing.B) {
	for _, pairs := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("pairs=%d", pairs), func(b *testing.B) {
			s, schema := benchStore(b)
			fx := benchfixture.New(benchfixture.Config{Pairs: pairs, Seed: 1})
			for rows := range fx.Rows(50_000) {
				if err := s.PutActionVectors(b.Context(), rows); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := s.DB().ExecContext(b.Context(), `VACUUM ANALYZE `+schema+`.action_vector`); err != nil {
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
				if _, err := s.DB().ExecContext(b.Context(), `TRUNCATE `+schema+`.tasks`); err != nil {
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

// benchStore returns a migrated store in a new schema that is dropped
// afterwards, on a pool of its own, and the schema's name. It skips the
// benchmark when no server is configured.
func benchStore(b *testing.B) (*postgres.Store, string) {
	b.Helper()
	url := os.Getenv(urlVariable)
	if url == "" {
		b.Skipf("%s is not set", urlVariable)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	schema := "tasks_bench_" + hex.EncodeToString(id)
	if _, err := db.ExecContext(b.Context(), `CREATE SCHEMA `+schema); err != nil {
		b.Fatalf("create schema: %v", err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			b.Errorf("drop schema %s: %v", schema, err)
		}
	})
	s := postgres.New(db, postgres.WithTasksTable(schema+".tasks"), postgres.WithActionVectorTable(schema+".action_vector"))
	if err := s.Migrate(b.Context()); err != nil {
		b.Fatalf("migrate: %v", err)
	}
	return s, schema
}

// reportCandidates adds the candidates of one call and the time per
// candidate, the figure that compares across sizes.
func reportCandidates(b *testing.B, candidates int) {
	b.ReportMetric(float64(candidates), "candidates/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(candidates), "ns/candidate")
}
