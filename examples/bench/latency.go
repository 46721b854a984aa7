package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/actionvector/tasks/internal/benchfixture"
	"github.com/actionvector/tasks/store"
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
	for rows := range fx.Rows(seedChunk) {
		if err := db.Adapter().PutActionVectors(ctx, rows); err != nil {
			return nil, fmt.Errorf("seeding: %w", err)
		}
	}
	if err := db.Analyze(ctx); err != nil {
		return nil, err
	}
	svc := taskcreate.New(db.Adapter(), taskcreate.WithMaxPerimeter(max(cfg.pairs, taskcreate.DefaultMaxPerimeter)))
	if err := db.ClearTasks(ctx); err != nil {
		return nil, err
	}
	req := fx.Request("bench-latency-create", -1)
	if _, err := svc.CreateTasks(ctx, req); err != nil {
		return nil, err
	}
	want := fx.Expected(-1)
	want.Created, want.Updated = 0, want.Created

	implementations := []func(context.Context, taskcreate.Request) (store.Outcome, error){
		func(ctx context.Context, req taskcreate.Request) (store.Outcome, error) {
			res, err := svc.CreateTasks(ctx, req)
			return outcomeOf(res), err
		},
		func(ctx context.Context, req taskcreate.Request) (store.Outcome, error) {
			return b.Batch(ctx, req, time.Now())
		},
		func(ctx context.Context, req taskcreate.Request) (store.Outcome, error) {
			return runNaive(ctx, db.DB(), db.Naive(), req, time.Now())
		},
	}
	names := []string{"library", "batch", "naive"}
	seconds := make([][]float64, len(implementations))
	if cfg.progress != nil {
		fmt.Fprintf(cfg.progress, "bench: %d update calls of %d pairs with each of %s\n", cfg.calls, cfg.pairs, strings.Join(names, ", "))
	}
	for call := range latencyWarmUp + cfg.calls {
		for k := range implementations {
			i := (call + k) % len(implementations)
			req.WorkflowRunID = fmt.Sprintf("bench-latency-%s-%d", names[i], call)
			start := time.Now()
			got, err := implementations[i](ctx, req)
			elapsed := time.Since(start).Seconds()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", names[i], err)
			}
			if counts(got) != counts(want) {
				return nil, fmt.Errorf("%s reported %+v, the fixture says %+v", names[i], got, want)
			}
			if call >= latencyWarmUp {
				seconds[i] = append(seconds[i], elapsed)
			}
		}
	}
	r.library, r.batch, r.naive = seconds[0], seconds[1], seconds[2]
	return r, nil
}

// percentile returns the nearest-rank q-th percentile of xs.
func percentile(xs []float64, q float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	rank := int(math.Ceil(q / 100 * float64(len(s))))
	return s[max(rank, 1)-1]
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
