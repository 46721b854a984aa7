package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/actionvector/tasks/storetest/benchfixture"
)

// orgsReport is what the -orgs mode measured: K organizations, each with
// the fixture of -pairs pairs, making their create calls one after the
// other and all at once.
type orgsReport struct {
	store, version string
	orgs, pairs    int
	reps           int
	candidates     int       // of one organization's call
	sequential     []float64 // seconds for the K calls one after the other
	concurrent     []float64 // seconds for the K calls at once, first start to last end
	errors         int       // calls that failed, in any run
}

// measureOrgs seeds cfg.orgs organizations and times their create calls,
// one after the other and at once, on an empty tasks table each time.
func measureOrgs(ctx context.Context, cfg config, db database) (*orgsReport, error) {
	r := &orgsReport{store: db.Name(), orgs: cfg.orgs, pairs: cfg.pairs, reps: cfg.reps, candidates: 3 * cfg.pairs}
	var err error
	if r.version, err = db.Version(ctx); err != nil {
		return nil, err
	}
	fixtures := make([]*benchfixture.Fixture, cfg.orgs)
	for k := range fixtures {
		fixtures[k] = benchfixture.New(benchfixture.Config{Pairs: cfg.pairs, Seed: cfg.seed,
			Organization: fmt.Sprintf("550e8400-e29b-41d4-a716-%012d", k+1)})
		cfg.progressf("seeding organization %d of %d", k+1, cfg.orgs)
		if _, _, err := seedFixture(ctx, db, fixtures[k]); err != nil {
			return nil, err
		}
	}
	if err := db.Analyze(ctx); err != nil {
		return nil, err
	}
	svc := newService(cfg, db)
	call := func(ctx context.Context, k int, run string) error {
		req := fixtures[k].Request("bench-orgs-"+run, -1)
		res, err := svc.CreateTasks(ctx, req)
		if err != nil {
			return fmt.Errorf("organization %d: %w", k+1, err)
		}
		if got, want := outcomeOf(res), fixtures[k].Expected(-1); counts(got) != counts(want) {
			return fmt.Errorf("organization %d: CreateTasks reported %+v, the fixture says %+v", k+1, got, want)
		}
		return nil
	}
	cfg.progressf("%d organizations' creates, one after the other, %d repetition(s)", cfg.orgs, cfg.reps)
	r.sequential, err = timeRuns(ctx, db, cfg.reps, db.ClearTasks, func(ctx context.Context, run string) error {
		for k := range fixtures {
			if err := call(ctx, k, fmt.Sprintf("seq-%s-%d", run, k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	cfg.progressf("the same creates at once")
	r.concurrent, err = timeRuns(ctx, db, cfg.reps, db.ClearTasks, func(ctx context.Context, run string) error {
		var wg sync.WaitGroup
		errs := make([]error, len(fixtures))
		for k := range fixtures {
			wg.Go(func() { errs[k] = call(ctx, k, fmt.Sprintf("par-%s-%d", run, k)) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				r.errors++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if r.errors > 0 {
		return nil, fmt.Errorf("%d concurrent calls failed", r.errors)
	}
	return r, nil
}

// write prints the human report, then the BENCH line, last.
func (r *orgsReport) write(w io.Writer) error {
	var b strings.Builder
	seq, conc := median(r.sequential), median(r.concurrent)
	fmt.Fprintf(&b, "store %s: %s\n", r.store, r.version)
	fmt.Fprintf(&b, "%d organizations, each creating the tasks of %d pairs (%d candidates); median of %d repetition(s) after a warm-up\n",
		r.orgs, r.pairs, r.candidates, r.reps)
	fmt.Fprintf(&b, "one after the other: %.3f s (%.3f..%.3f); at once: %.3f s (%.3f..%.3f); %d failed calls\n\n",
		seq, slices.Min(r.sequential), slices.Max(r.sequential), conc, slices.Min(r.concurrent), slices.Max(r.concurrent), r.errors)
	fmt.Fprintf(&b, "BENCH store=%s phase=orgs orgs=%d pairs=%d candidates=%d seconds=%.4f per_sec=%.1f sequential_seconds=%.4f speedup_concurrent=%.4f errors=%d\n",
		r.store, r.orgs, r.pairs, r.orgs*r.candidates, conc, float64(r.orgs*r.candidates)/conc, seq, seq/conc, r.errors)
	_, err := io.WriteString(w, b.String())
	return err
}
