package benchfixture

import (
	"fmt"
	"testing"
	"time"

	"github.com/actionvector/tasks/taskcreate"
)

// RunCreateAndUpdate runs the "create" and "update" sub-benchmarks of a
// store seeded with f: "create" starts every iteration from an empty tasks
// table (clearTasks, untimed), "update" repeats the request by a new run on
// the full table. Every call is checked against f.Expected, so a benchmark
// of a wrong store fails rather than measures.
func RunCreateAndUpdate(b *testing.B, f *Fixture, svc *taskcreate.Service, clearTasks func(b *testing.B)) {
	c := newCaller(f)
	b.Run("create", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			clearTasks(b)
			b.StartTimer()
			c.call(b, svc, c.eligible)
		}
		reportCandidates(b, c.candidates)
	})
	b.Run("update", func(b *testing.B) {
		clearTasks(b)
		c.call(b, svc, c.eligible)
		b.ReportAllocs()
		for b.Loop() {
			c.call(b, svc, 0)
		}
		reportCandidates(b, c.candidates)
	})
}

// A Contender is one of the services CompareCreateAndUpdate times.
type Contender struct {
	Name    string
	Service *taskcreate.Service
	// OwnTasks says the contender writes a tasks table of its own, which
	// "update" fills first; else it shares the first contender's.
	OwnTasks bool
}

// CompareCreateAndUpdate times the calls of RunCreateAndUpdate through each
// contender, interleaved (see Interleave), in one "create" and one
// "update" sub-benchmark.
func CompareCreateAndUpdate(b *testing.B, f *Fixture, clearTasks func(b *testing.B), contenders ...Contender) {
	c := newCaller(f)
	names := make([]string, len(contenders))
	for i, ct := range contenders {
		names[i] = ct.Name
	}
	compare := func(b *testing.B, prepare func(b *testing.B), want int) {
		Interleave(b, names, func(b *testing.B, _ int) { prepare(b) }, func(b *testing.B, i int) {
			c.call(b, contenders[i].Service, want)
		})
	}
	b.Run("create", func(b *testing.B) { compare(b, clearTasks, c.eligible) })
	b.Run("update", func(b *testing.B) {
		clearTasks(b)
		for i, ct := range contenders {
			if i == 0 || ct.OwnTasks {
				c.call(b, ct.Service, c.eligible)
			}
		}
		compare(b, func(*testing.B) {}, 0)
	})
}

// Interleave makes every iteration of b's loop call each of the named
// contenders once, in an order that rotates from one iteration to the
// next, so that they share the machine's conditions; prepare runs,
// untimed, before each call. It reports each contender's milliseconds per
// call ("NAME-ms/op") and each one's time against the first's
// ("NAME/FIRST"); ns/op is the time of a whole round.
func Interleave(b *testing.B, names []string, prepare, call func(b *testing.B, contender int)) {
	spent := make([]time.Duration, len(names))
	for round := 0; b.Loop(); round++ {
		for k := range names {
			i := (k + round) % len(names)
			b.StopTimer()
			prepare(b, i)
			b.StartTimer()
			start := time.Now()
			call(b, i)
			spent[i] += time.Since(start)
		}
	}
	for i, name := range names {
		b.ReportMetric(float64(spent[i].Microseconds())/1e3/float64(b.N), name+"-ms/op")
		if i > 0 {
			b.ReportMetric(float64(spent[i])/float64(spent[0]), name+"/"+names[0])
		}
	}
}

// caller makes f's request by a new run each time and checks its result.
type caller struct {
	req                  taskcreate.Request
	eligible, candidates int
	run                  int
}

func newCaller(f *Fixture) *caller {
	req := f.Request("", -1)
	return &caller{req: req, eligible: f.Expected(-1).Created, candidates: len(req.Perimeter) * len(req.Domains)}
}

// call makes the request through svc and fails b unless it created
// wantCreated tasks and created or updated every eligible one.
func (c *caller) call(b *testing.B, svc *taskcreate.Service, wantCreated int) {
	c.run++
	c.req.WorkflowRunID = fmt.Sprintf("bench-run-%d", c.run)
	res, err := svc.CreateTasks(b.Context(), c.req)
	if err != nil {
		b.Fatal(err)
	}
	if res.Created != wantCreated || res.Created+res.Updated != c.eligible {
		b.Fatalf("created %d, updated %d; want %d created of %d eligible", res.Created, res.Updated, wantCreated, c.eligible)
	}
}

// reportCandidates adds the candidates of one call and the time per
// candidate, the figure that compares across sizes.
func reportCandidates(b *testing.B, candidates int) {
	b.ReportMetric(float64(candidates), "candidates/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(candidates), "ns/candidate")
}
