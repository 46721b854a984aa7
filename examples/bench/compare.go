package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/actionvector/tasks/storetest/benchfixture"
	"github.com/actionvector/tasks/taskcreate"
)

// comparison is an update call made two ways, plain and with something
// added, on the first pairs of the fixture (-1: all of them).
type comparison struct {
	phase       string // of its BENCH line
	what        string // what it adds, for the human report
	pairs       int
	plain, with updateCall
}

// updateCall is one way of making an update call.
type updateCall struct {
	svc              *taskcreate.Service
	retire, outcomes bool
}

// comparisonReport is what the -lifecycle and -telemetry modes measured.
type comparisonReport struct {
	store, version string
	reps           int
	comparisons    []comparison
	plain, with    [][]float64 // seconds, by comparison then repetition
}

// comparisons returns the comparisons of a mode, on services made by
// newService.
type comparisons func(cfg config, newService func(...taskcreate.Option) *taskcreate.Service) []comparison

// lifecycleComparisons are what RetireStale (on every pair) and
// ReturnOutcomes (on the first pairs: at most DefaultMaxOutcomes candidates
// may ask for it) add to an update.
func lifecycleComparisons(cfg config, newService func(...taskcreate.Option) *taskcreate.Service) []comparison {
	svc := newService()
	return []comparison{
		{phase: "retire_stale", what: "RetireStale", pairs: cfg.pairs, plain: updateCall{svc: svc}, with: updateCall{svc: svc, retire: true}},
		{phase: "return_outcomes", what: "ReturnOutcomes", pairs: min(cfg.pairs, taskcreate.DefaultMaxOutcomes/3),
			plain: updateCall{svc: svc}, with: updateCall{svc: svc, outcomes: true}},
	}
}

// measureComparisons seeds the fixture, creates its tasks, then times the
// comparisons' updates, alternating which of each pair goes first.
func measureComparisons(ctx context.Context, cfg config, db database, compare comparisons) (*comparisonReport, error) {
	r := &comparisonReport{store: db.Name(), reps: cfg.reps}
	var err error
	if r.version, err = db.Version(ctx); err != nil {
		return nil, err
	}
	fx := benchfixture.New(benchfixture.Config{Pairs: cfg.pairs, Seed: cfg.seed})
	cfg.progressf("seeding the fixture of %d pairs", cfg.pairs)
	if _, _, err := seedFixture(ctx, db, fx); err != nil {
		return nil, err
	}
	if err := db.Analyze(ctx); err != nil {
		return nil, err
	}
	services := func(opts ...taskcreate.Option) *taskcreate.Service { return newService(cfg, db, opts...) }
	r.comparisons = compare(cfg, services)
	r.plain, r.with = make([][]float64, len(r.comparisons)), make([][]float64, len(r.comparisons))
	run := 0
	update := func(pairs int, call updateCall) (float64, error) {
		if err := db.Settle(ctx); err != nil {
			return 0, err
		}
		run++
		req := fx.Request(fmt.Sprintf("bench-compare-%d", run), pairs)
		req.RetireStale, req.ReturnOutcomes = call.retire, call.outcomes
		start := time.Now()
		res, err := call.svc.CreateTasks(ctx, req)
		elapsed := time.Since(start).Seconds()
		switch want := fx.Expected(pairs); {
		case err != nil:
			return 0, err
		case res.Created+res.Updated != want.Created || res.Retired != 0:
			return 0, fmt.Errorf("an update of %d pairs wrote %d tasks and retired %d, the fixture says %d and 0",
				pairs, res.Created+res.Updated, res.Retired, want.Created)
		case call.outcomes && len(res.Outcomes) != len(req.Domains)*len(req.Perimeter):
			return 0, fmt.Errorf("%d outcomes for %d candidates", len(res.Outcomes), len(req.Domains)*len(req.Perimeter))
		}
		return elapsed, nil
	}
	cfg.progressf("creating the tasks")
	if err := db.ClearTasks(ctx); err != nil {
		return nil, err
	}
	if _, err := update(-1, updateCall{svc: services()}); err != nil {
		return nil, err
	}
	cfg.progressf("%d comparison(s) of updates, %d repetition(s) after a warm-up", len(r.comparisons), cfg.reps)
	for rep := range cfg.reps + 1 {
		for i, c := range r.comparisons {
			first, second := c.plain, c.with
			if rep%2 == 1 {
				first, second = second, first
			}
			t1, err := update(c.pairs, first)
			if err != nil {
				return nil, err
			}
			t2, err := update(c.pairs, second)
			if err != nil {
				return nil, err
			}
			if rep%2 == 1 {
				t1, t2 = t2, t1
			}
			if rep > 0 { // the first round warms up
				r.plain[i], r.with[i] = append(r.plain[i], t1), append(r.with[i], t2)
			}
		}
	}
	return r, nil
}

// write prints the human report, then the BENCH lines, last.
func (r *comparisonReport) write(w io.Writer) error {
	var b, lines strings.Builder
	fmt.Fprintf(&b, "store %s: %s; median of %d alternated repetition(s) after a warm-up\n", r.store, r.version, r.reps)
	for i, c := range r.comparisons {
		plain, with := median(r.plain[i]), median(r.with[i])
		fmt.Fprintf(&b, "update of %d pairs: %.3f s; with %s: %.3f s (x%.3f)\n", c.pairs, plain, c.what, with, with/plain)
		fmt.Fprintf(&lines, "BENCH store=%s phase=%s pairs=%d candidates=%d seconds=%.4f plain_seconds=%.4f ratio_plain=%.4f\n",
			r.store, c.phase, c.pairs, 3*c.pairs, with, plain, with/plain)
	}
	b.WriteString("\n")
	b.WriteString(lines.String())
	_, err := io.WriteString(w, b.String())
	return err
}
