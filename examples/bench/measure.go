package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/actionvector/tasks/internal/benchfixture"
	"github.com/actionvector/tasks/store"
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
	CountF3(ctx context.Context, runID string) (rows, ofRun int, err error) // the rows of the F3 table, and those of runID
}

// seedChunk bounds the rows held in memory while seeding.
const seedChunk = 50_000

// report is everything one run measured.
type report struct {
	store, version  string
	pairs, reps     int
	candidates      int
	positions, rows int // of the fixture
	evidenceBytes   int // average size of an action vector's JSON
	seeding         time.Duration
	expected        store.Outcome // of a create
	create, update  callTimes
	f1Rows          int
	f1, f3Empty     []float64 // seconds
	f3Full          []float64
	fr              []float64 // seconds of F_R
	frRows          int       // the action vectors F_R read
	batchCreate     []float64 // seconds of the batch baseline on the whole perimeter
	batchUpdate     []float64
	naivePairs      int
	naiveCreate     []float64 // seconds for naivePairs
	naiveUpdate     []float64
	naiveMismatch   string // why the naive baseline and CreateTasks disagree, or ""
	profiles        []string
	load            [2]string // the system's load averages before and after, where the system tells
}

// callTimes are the timed CreateTasks calls of one phase.
type callTimes struct {
	seconds  []float64
	allocs   []float64 // bytes allocated per candidate
	peakHeap uint64    // bytes, the most seen during any call
}

func measure(ctx context.Context, cfg config, db database) (*report, error) {
	progress := func(format string, args ...any) {
		if cfg.progress != nil {
			fmt.Fprintf(cfg.progress, "bench: "+format+"\n", args...)
		}
	}
	r := &report{store: db.Name(), pairs: cfg.pairs, reps: cfg.reps, candidates: 3 * cfg.pairs, naivePairs: cfg.naivePairs}
	r.load[0] = loadAverage()
	var err error
	if r.version, err = db.Version(ctx); err != nil {
		return nil, err
	}
	if cfg.memProfile != "" {
		// Sample allocations only during the profiled calls: the profile
		// then shows them and nothing of the seeding or the floors.
		runtime.MemProfileRate = 0
	}

	fx := benchfixture.New(benchfixture.Config{Pairs: cfg.pairs, Seed: cfg.seed})
	r.positions, r.expected = fx.Positions(), fx.Expected(-1)
	progress("seeding %d positions x 3 domains x 2 snapshot dates on %s", r.positions, r.version)
	start := time.Now()
	for rows := range fx.Rows(seedChunk) {
		for _, v := range rows {
			r.evidenceBytes += len(v.Snapshot)
		}
		r.rows += len(rows)
		if err := db.Adapter().PutActionVectors(ctx, rows); err != nil {
			return nil, fmt.Errorf("seeding: %w", err)
		}
	}
	if err := db.Analyze(ctx); err != nil {
		return nil, err
	}
	r.seeding = time.Since(start)
	r.evidenceBytes /= max(r.rows, 1)
	progress("seeded %d action vectors in %s", r.rows, r.seeding.Round(time.Millisecond))

	svc := taskcreate.New(db.Adapter(), taskcreate.WithMaxPerimeter(max(cfg.pairs, taskcreate.DefaultMaxPerimeter)))
	req := fx.Request("", -1)
	eligible := r.expected.Created
	wantUpdate := r.expected
	wantUpdate.Created, wantUpdate.Updated = 0, eligible
	call := func(phase string, want store.Outcome) func(context.Context, string) error {
		return func(ctx context.Context, run string) error {
			req.WorkflowRunID = "bench-" + phase + "-" + run
			res, err := svc.CreateTasks(ctx, req)
			if err != nil {
				return fmt.Errorf("%s: %w", phase, err)
			}
			if got := outcomeOf(res); counts(got) != counts(want) {
				return fmt.Errorf("%s: CreateTasks reported %+v, the fixture says %+v", phase, got, want)
			}
			return nil
		}
	}

	progress("create: %d candidates on an empty table, %d repetition(s)", r.candidates, cfg.reps)
	r.create, err = timeCalls(ctx, db, cfg.reps, r.candidates, db.ClearTasks, call("create", r.expected))
	if err != nil {
		return nil, err
	}
	progress("update: the same candidates again, by new runs")
	r.update, err = timeCalls(ctx, db, cfg.reps, r.candidates, nil, call("update", wantUpdate))
	if err != nil {
		return nil, err
	}
	if cfg.cpuProfile != "" || cfg.memProfile != "" {
		progress("profiling one more create and update call")
		if r.profiles, err = profileCalls(ctx, cfg, db, call("create", r.expected), call("update", wantUpdate)); err != nil {
			return nil, err
		}
	}

	progress("floors: staging the %d rows the last call wrote", eligible)
	req.WorkflowRunID = "bench-floors"
	fl, err := db.Floors(ctx, req)
	if err != nil {
		return nil, err
	}
	if r.f1Rows = fl.Rows(); r.f1Rows != eligible {
		return nil, fmt.Errorf("floors: staged %d rows, the call wrote %d", r.f1Rows, eligible)
	}
	progress("F1: bulk load into an unindexed copy")
	if r.f1, err = timeRuns(ctx, db, cfg.reps, fl.ClearF1, ignoreRun(fl.LoadF1)); err != nil {
		return nil, fmt.Errorf("F1: %w", err)
	}
	progress("F3: server-side upsert into an empty table, then onto the full one")
	// Each repetition writes the rows as a run of its own, so that onto the
	// full table every row changes its run, as an update call's rows do.
	f3Run := func(run string) string { return "bench-f3-" + run }
	upsertF3 := func(ctx context.Context, run string) error { return fl.UpsertF3(ctx, f3Run(run)) }
	if r.f3Empty, err = timeRuns(ctx, db, cfg.reps, fl.ClearF3, upsertF3); err != nil {
		return nil, fmt.Errorf("F3 into an empty table: %w", err)
	}
	if r.f3Full, err = timeRuns(ctx, db, cfg.reps, nil, upsertF3); err != nil {
		return nil, fmt.Errorf("F3 onto the full table: %w", err)
	}
	if rows, ofRun, err := fl.CountF3(ctx, f3Run(runName(cfg.reps))); err != nil {
		return nil, fmt.Errorf("F3: %w", err)
	} else if rows != r.f1Rows || ofRun != rows {
		return nil, fmt.Errorf("F3 onto the full table left %d rows, %d of its last run; want %d, all of it", rows, ofRun, r.f1Rows)
	}
	progress("F_R: server-side read of the perimeter's latest action vectors")
	if r.fr, err = timeRuns(ctx, db, cfg.reps, nil, func(ctx context.Context, _ string) error {
		n, err := fl.ReadFR(ctx)
		r.frRows = n
		return err
	}); err != nil {
		return nil, fmt.Errorf("F_R: %w", err)
	}
	if want := r.candidates - r.expected.Unmatched; r.frRows != want {
		return nil, fmt.Errorf("F_R read %d action vectors, the call matched %d candidates", r.frRows, want)
	}

	if b, ok := db.(batcher); ok {
		progress("batch: one read, classification in Go, one bulk load and one upsert")
		batch := func(phase string, want store.Outcome) func(context.Context, string) error {
			return func(ctx context.Context, run string) error {
				req.WorkflowRunID = "bench-batch-" + phase + "-" + run
				got, err := b.Batch(ctx, req, time.Now())
				if err != nil {
					return err
				}
				if counts(got) != counts(want) {
					return fmt.Errorf("batch %s reported %+v, CreateTasks %+v", phase, got, want)
				}
				return nil
			}
		}
		if r.batchCreate, err = timeRuns(ctx, db, cfg.reps, db.ClearTasks, batch("create", r.expected)); err != nil {
			return nil, fmt.Errorf("batch create: %w", err)
		}
		if r.batchUpdate, err = timeRuns(ctx, db, cfg.reps, nil, batch("update", wantUpdate)); err != nil {
			return nil, fmt.Errorf("batch update: %w", err)
		}
	}

	if err := naiveBaseline(ctx, r, db, svc, fx, progress); err != nil {
		return nil, err
	}
	r.load[1] = loadAverage()
	return r, nil
}

// loadAverage returns the 1, 5 and 15 minute load averages of Linux, or ""
// elsewhere: other processes on the machine are the first suspect of a
// surprising figure.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// naiveBaseline times the naive implementation on the first naivePairs
// pairs, creating then updating, and checks that it agrees with
// CreateTasks on the same pairs.
func naiveBaseline(ctx context.Context, r *report, db database, svc *taskcreate.Service, fx *benchfixture.Fixture, progress func(string, ...any)) error {
	req := fx.Request("", r.naivePairs)
	var created, updated store.Outcome
	naive := func(dst *store.Outcome, phase string) func(context.Context, string) error {
		return func(ctx context.Context, run string) (err error) {
			req.WorkflowRunID = "bench-naive-" + phase + "-" + run
			*dst, err = runNaive(ctx, db.DB(), db.Naive(), req, time.Now())
			return err
		}
	}
	progress("naive: %d candidates, one statement each", 3*r.naivePairs)
	var err error
	if r.naiveCreate, err = timeRuns(ctx, db, r.reps, db.ClearTasks, naive(&created, "create")); err != nil {
		return fmt.Errorf("naive create: %w", err)
	}
	if r.naiveUpdate, err = timeRuns(ctx, db, r.reps, nil, naive(&updated, "update")); err != nil {
		return fmt.Errorf("naive update: %w", err)
	}

	if err := db.ClearTasks(ctx); err != nil {
		return err
	}
	req.WorkflowRunID = "bench-naive-check"
	res, err := svc.CreateTasks(ctx, req)
	if err != nil {
		return fmt.Errorf("naive check: %w", err)
	}
	want := outcomeOf(res)
	wantUpdate := want
	wantUpdate.Created, wantUpdate.Updated = 0, want.Created+want.Updated
	switch {
	case counts(created) != counts(want):
		r.naiveMismatch = fmt.Sprintf("naive create reported %+v, CreateTasks %+v", created, want)
	case counts(updated) != counts(wantUpdate):
		r.naiveMismatch = fmt.Sprintf("naive update reported %+v, CreateTasks would %+v", updated, wantUpdate)
	}
	return nil
}

func outcomeOf(res taskcreate.Result) store.Outcome {
	return store.Outcome{Created: res.Created, Updated: res.Updated, Suppressed: res.Suppressed,
		Skipped: res.Skipped, Unmatched: res.Unmatched}
}

// counts are the counts of o, which can be compared.
func counts(o store.Outcome) [6]int {
	return [6]int{o.Created, o.Updated, o.Suppressed, o.Skipped, o.Unmatched, o.Retired}
}

func ignoreRun(fn func(context.Context) error) func(context.Context, string) error {
	return func(ctx context.Context, _ string) error { return fn(ctx) }
}

// timeRuns runs timed once as a warm-up and then reps times, each after
// reset (when not nil) and db.Settle, neither of which is timed. It returns
// the seconds of the timed runs. timed gets the name of its run ("warm-up",
// "1", ...) to tell its runs apart.
func timeRuns(ctx context.Context, db database, reps int, reset func(context.Context) error, timed func(context.Context, string) error) ([]float64, error) {
	var seconds []float64
	for rep := range reps + 1 {
		if err := prepareRun(ctx, db, reset); err != nil {
			return nil, err
		}
		start := time.Now()
		if err := timed(ctx, runName(rep)); err != nil {
			return nil, err
		}
		if rep > 0 {
			seconds = append(seconds, time.Since(start).Seconds())
		}
	}
	return seconds, nil
}

// timeCalls is timeRuns for CreateTasks calls, which also measures the
// bytes each call allocates and the peak heap during the calls.
func timeCalls(ctx context.Context, db database, reps, candidates int, reset func(context.Context) error, call func(context.Context, string) error) (callTimes, error) {
	var t callTimes
	for rep := range reps + 1 {
		if err := prepareRun(ctx, db, reset); err != nil {
			return t, err
		}
		// A collection first, so the call neither pays for the garbage of
		// the previous one nor finds it counted in the heap.
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		watch := watchHeap()
		start := time.Now()
		err := call(ctx, runName(rep))
		elapsed := time.Since(start)
		peak := watch.stop()
		if err != nil {
			return t, err
		}
		runtime.ReadMemStats(&after)
		if rep > 0 {
			t.seconds = append(t.seconds, elapsed.Seconds())
			t.allocs = append(t.allocs, float64(after.TotalAlloc-before.TotalAlloc)/float64(candidates))
			t.peakHeap = max(t.peakHeap, peak)
		}
	}
	return t, nil
}

func prepareRun(ctx context.Context, db database, reset func(context.Context) error) error {
	if reset != nil {
		if err := reset(ctx); err != nil {
			return err
		}
	}
	return db.Settle(ctx)
}

func runName(rep int) string {
	if rep == 0 {
		return "warm-up"
	}
	return fmt.Sprint(rep)
}

// profileCalls runs one create call (on an empty table) and one update
// call under the profilers, outside the timed repetitions so that
// profiling never slows a timed call.
func profileCalls(ctx context.Context, cfg config, db database, create, update func(context.Context, string) error) ([]string, error) {
	var written []string
	if err := prepareRun(ctx, db, db.ClearTasks); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		phase string
		call  func(context.Context, string) error
	}{{"create", create}, {"update", update}} {
		runtime.GC()
		if cfg.memProfile != "" {
			runtime.MemProfileRate = 512 * 1024 // the runtime's default
		}
		var cpu *os.File
		if cfg.cpuProfile != "" {
			path := withPhase(cfg.cpuProfile, c.phase)
			f, err := os.Create(path)
			if err != nil {
				return nil, err
			}
			cpu = f
			written = append(written, path)
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
				return nil, err
			}
		}
		err := c.call(ctx, "profiled")
		if cpu != nil {
			pprof.StopCPUProfile()
			if cerr := cpu.Close(); err == nil {
				err = cerr
			}
		}
		runtime.MemProfileRate = 0
		if err != nil {
			return nil, err
		}
	}
	if cfg.memProfile != "" {
		runtime.GC() // the allocation profile is as of the last collection
		f, err := os.Create(cfg.memProfile)
		if err != nil {
			return nil, err
		}
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		written = append(written, cfg.memProfile)
	}
	return written, nil
}

// withPhase inserts the phase before the extension: cpu.pprof becomes
// cpu.create.pprof.
func withPhase(path, phase string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + phase + ext
}

// heapWatch samples the bytes of heap objects (live or not yet swept)
// until stopped; reading runtime/metrics stops no goroutine.
type heapWatch struct {
	done chan struct{}
	peak chan uint64
}

func watchHeap() *heapWatch {
	w := &heapWatch{done: make(chan struct{}), peak: make(chan uint64, 1)}
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var peak uint64
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-w.done:
				w.peak <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *heapWatch) stop() uint64 {
	close(w.done)
	return <-w.peak
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}
