package main

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/storetest/benchfixture"
	"github.com/actionvector/tasks/taskcreate"
)

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
	rwEmpty, rwFull []float64 // seconds of F_RW: F_R then F3 in one transaction
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

// session is one run of the default mode: the store, the fixture, the
// service under measurement with the request of the whole perimeter, and
// the report they fill.
type session struct {
	cfg        config
	db         database
	fx         *benchfixture.Fixture
	svc        *taskcreate.Service
	req        taskcreate.Request // each call names its own run
	wantUpdate store.Outcome      // of an update call
	r          *report
}

// measure seeds the fixture on db, then times CreateTasks, the floors and
// the baselines on it.
func measure(ctx context.Context, cfg config, db database) (*report, error) {
	s := newSession(cfg, db)
	s.r.load[0] = loadAverage()
	var err error
	if s.r.version, err = db.Version(ctx); err != nil {
		return nil, err
	}
	if cfg.memProfile != "" {
		// Sample allocations only during the profiled calls: the profile
		// then shows them and nothing of the seeding or the floors.
		runtime.MemProfileRate = 0
	}
	for _, step := range []func(context.Context) error{s.seed, s.timeCreateTasks, s.timeFloors, s.timeBatch, s.timeNaive} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	s.r.load[1] = loadAverage()
	return s.r, nil
}

func newSession(cfg config, db database) *session {
	fx := benchfixture.New(benchfixture.Config{Pairs: cfg.pairs, Seed: cfg.seed})
	r := &report{store: db.Name(), pairs: cfg.pairs, reps: cfg.reps, candidates: 3 * cfg.pairs, naivePairs: cfg.naivePairs,
		positions: fx.Positions(), expected: fx.Expected(-1)}
	wantUpdate := r.expected
	wantUpdate.Created, wantUpdate.Updated = 0, r.expected.Created
	return &session{cfg: cfg, db: db, fx: fx, svc: newService(cfg, db), req: fx.Request("", -1), wantUpdate: wantUpdate, r: r}
}

// seed writes the fixture and analyzes the tables, and reports how long
// that took.
func (s *session) seed(ctx context.Context) error {
	r := s.r
	s.cfg.progressf("seeding %d positions x 3 domains x 2 snapshot dates on %s", r.positions, r.version)
	start := time.Now()
	rows, evidenceBytes, err := seedFixture(ctx, s.db, s.fx)
	if err != nil {
		return err
	}
	if err := s.db.Analyze(ctx); err != nil {
		return err
	}
	r.seeding = time.Since(start)
	r.rows, r.evidenceBytes = rows, evidenceBytes/max(rows, 1)
	s.cfg.progressf("seeded %d action vectors in %s", r.rows, r.seeding.Round(time.Millisecond))
	return nil
}

// timeCreateTasks times the create calls on an empty table, then the
// update calls, then profiles one more of each when the flags ask.
func (s *session) timeCreateTasks(ctx context.Context) (err error) {
	r, reps := s.r, s.cfg.reps
	s.cfg.progressf("create: %d candidates on an empty table, %d repetition(s)", r.candidates, reps)
	if r.create, err = timeCalls(ctx, s.db, reps, r.candidates, s.db.ClearTasks, s.call("create", r.expected)); err != nil {
		return err
	}
	s.cfg.progressf("update: the same candidates again, by new runs")
	if r.update, err = timeCalls(ctx, s.db, reps, r.candidates, nil, s.call("update", s.wantUpdate)); err != nil {
		return err
	}
	if s.cfg.cpuProfile == "" && s.cfg.memProfile == "" {
		return nil
	}
	s.cfg.progressf("profiling one more create and update call")
	r.profiles, err = profileCalls(ctx, s.cfg, s.db, s.call("create", r.expected), s.call("update", s.wantUpdate))
	return err
}

// call returns a CreateTasks call of the whole perimeter as a run of
// phase, which fails unless the call reports the counts of want.
func (s *session) call(phase string, want store.Outcome) func(context.Context, string) error {
	return func(ctx context.Context, run string) error {
		s.req.WorkflowRunID = "bench-" + phase + "-" + run
		res, err := s.svc.CreateTasks(ctx, s.req)
		if err != nil {
			return fmt.Errorf("%s: %w", phase, err)
		}
		if got := outcomeOf(res); counts(got) != counts(want) {
			return fmt.Errorf("%s: CreateTasks reported %+v, the fixture says %+v", phase, got, want)
		}
		return nil
	}
}
