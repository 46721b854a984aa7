package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/storetest/benchfixture"
	"github.com/actionvector/tasks/taskcreate"
)

// latencyReport is what the -latency mode measured: the seconds of each
// update call of the library, the batch baseline and the naive one.
type latencyReport struct {
	store, version        string
	pairs, calls          int
	library, batch, naive []float64
}

// latencyWarmUp is the calls of each implementation made before timing.
const latencyWarmUp = 5

// latencyCall is one implementation's update call in the -latency mode.
type latencyCall struct {
	name string
	call func(context.Context, taskcreate.Request) (store.Outcome, error)
}

// measureLatency seeds the fixture, creates its tasks, then makes -calls
// update calls of the whole perimeter with each implementation, taking
// turns and rotating which goes first, and checks every call's counts.
// Nothing settles between calls: checkpoints land where they fall, as they
// do in production.
func measureLatency(ctx context.Context, cfg config, db database) (*latencyReport, error) {
	b, ok := db.(batcher)
	if !ok {
		return nil, fmt.Errorf("-latency: no batch baseline on %s", db.Name())
	}
	r := &latencyReport{store: db.Name(), pairs: cfg.pairs, calls: cfg.calls}
	var err error
	if r.version, err = db.Version(ctx); err != nil {
		return nil, err
	}
	fx := benchfixture.New(benchfixture.Config{Pairs: cfg.pairs, Seed: cfg.seed})
	svc := newService(cfg, db)
	if err := createFixtureTasks(ctx, db, fx, svc); err != nil {
		return nil, err
	}
	calls := []latencyCall{
		{"library", func(ctx context.Context, req taskcreate.Request) (store.Outcome, error) {
			res, err := svc.CreateTasks(ctx, req)
			return outcomeOf(res), err
		}},
		{"batch", func(ctx context.Context, req taskcreate.Request) (store.Outcome, error) {
			return b.Batch(ctx, req, time.Now())
		}},
		{"naive", func(ctx context.Context, req taskcreate.Request) (store.Outcome, error) {
			return runNaive(ctx, db.DB(), db.Naive(), req, time.Now())
		}},
	}
	seconds, err := timeLatency(ctx, cfg, fx, calls)
	if err != nil {
		return nil, err
	}
	r.library, r.batch, r.naive = seconds[0], seconds[1], seconds[2]
	return r, nil
}

// createFixtureTasks seeds the fixture and creates its tasks, so that
// every timed call is an update.
func createFixtureTasks(ctx context.Context, db database, fx *benchfixture.Fixture, svc *taskcreate.Service) error {
	if _, _, err := seedFixture(ctx, db, fx); err != nil {
		return err
	}
	if err := db.Analyze(ctx); err != nil {
		return err
	}
	if err := db.ClearTasks(ctx); err != nil {
		return err
	}
	_, err := svc.CreateTasks(ctx, fx.Request("bench-latency-create", -1))
	return err
}

// timeLatency makes the update calls of the -latency mode, the
// implementations taking turns, and returns the seconds of each one's
// calls after the warm-up.
func timeLatency(ctx context.Context, cfg config, fx *benchfixture.Fixture, calls []latencyCall) ([][]float64, error) {
	want := fx.Expected(-1)
	want.Created, want.Updated = 0, want.Created
	names := make([]string, len(calls))
	for i, c := range calls {
		names[i] = c.name
	}
	cfg.progressf("%d update calls of %d pairs with each of %s", cfg.calls, cfg.pairs, strings.Join(names, ", "))
	req := fx.Request("", -1)
	seconds := make([][]float64, len(calls))
	for round := range latencyWarmUp + cfg.calls {
		for k := range calls {
			i := (round + k) % len(calls)
			c := calls[i]
			req.WorkflowRunID = fmt.Sprintf("bench-latency-%s-%d", c.name, round)
			start := time.Now()
			got, err := c.call(ctx, req)
			elapsed := time.Since(start).Seconds()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			if counts(got) != counts(want) {
				return nil, fmt.Errorf("%s reported %+v, the fixture says %+v", c.name, got, want)
			}
			if round >= latencyWarmUp {
				seconds[i] = append(seconds[i], elapsed)
			}
		}
	}
	return seconds, nil
}

// write prints the human report, then the BENCH line, last.
func (r *latencyReport) write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "store %s: %s; %d update calls of %d pairs (%d candidates) each, after %d warm-up calls\n",
		r.store, r.version, r.calls, r.pairs, 3*r.pairs, latencyWarmUp)
	p50, p99 := percentile(r.library, 50), percentile(r.library, 99)
	batch50, batch99 := percentile(r.batch, 50), percentile(r.batch, 99)
	naive50, naive99 := percentile(r.naive, 50), percentile(r.naive, 99)
	for _, row := range []struct {
		name     string
		p50, p99 float64
	}{{"library", p50, p99}, {"batch", batch50, batch99}, {"naive", naive50, naive99}} {
		fmt.Fprintf(&b, "%-8s p50 %8.2f ms  p99 %8.2f ms\n", row.name, row.p50*1e3, row.p99*1e3)
	}
	fmt.Fprintf(&b, "\nBENCH store=%s phase=latency pairs=%d candidates=%d calls=%d p50=%.5f p99=%.5f batch_p50=%.5f batch_p99=%.5f naive_p50=%.5f naive_p99=%.5f speedup_naive=%.4f speedup_batch=%.4f\n",
		r.store, r.pairs, 3*r.pairs, r.calls, p50, p99, batch50, batch99, naive50, naive99, naive50/p50, batch50/p50)
	_, err := io.WriteString(w, b.String())
	return err
}
