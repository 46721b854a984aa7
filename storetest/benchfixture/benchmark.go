package benchfixture

import (
	"fmt"
	"testing"

	"github.com/actionvector/tasks/taskcreate"
)

// RunCreateAndUpdate runs the "create" and "update" sub-benchmarks of a
// store seeded with f: "create" starts every iteration from an empty tasks
// table (clearTasks, untimed), "update" repeats the request by a new run on
// the full table. Every call is checked against f.Expected, so a benchmark
// of a wrong store fails rather than measures.
func RunCreateAndUpdate(b *testing.B, f *Fixture, svc *taskcreate.Service, clearTasks func(b *testing.B)) {
	req := f.Request("", -1)
	eligible := f.Expected(-1).Created
	candidates := len(req.Perimeter) * len(req.Domains)
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
	b.Run("create", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			clearTasks(b)
			b.StartTimer()
			createTasks(b, eligible)
		}
		reportCandidates(b, candidates)
	})
	b.Run("update", func(b *testing.B) {
		clearTasks(b)
		createTasks(b, eligible)
		b.ReportAllocs()
		for b.Loop() {
			createTasks(b, 0)
		}
		reportCandidates(b, candidates)
	})
}

// reportCandidates adds the candidates of one call and the time per
// candidate, the figure that compares across sizes.
func reportCandidates(b *testing.B, candidates int) {
	b.ReportMetric(float64(candidates), "candidates/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(candidates), "ns/candidate")
}
