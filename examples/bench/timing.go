package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"time"
)

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
		seconds, allocated, peak, err := timeCall(ctx, runName(rep), call)
		if err != nil {
			return t, err
		}
		if rep > 0 {
			t.seconds = append(t.seconds, seconds)
			t.allocs = append(t.allocs, float64(allocated)/float64(candidates))
			t.peakHeap = max(t.peakHeap, peak)
		}
	}
	return t, nil
}

// timeCall makes call as run and returns its seconds, the bytes it
// allocated and the peak heap while it ran.
func timeCall(ctx context.Context, run string, call func(context.Context, string) error) (seconds float64, allocated, peak uint64, err error) {
	// A collection first, so the call neither pays for the garbage of
	// the previous one nor finds it counted in the heap.
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	watch := watchHeap()
	start := time.Now()
	err = call(ctx, run)
	elapsed := time.Since(start)
	peak = watch.stop()
	if err != nil {
		return 0, 0, 0, err
	}
	runtime.ReadMemStats(&after)
	return elapsed.Seconds(), after.TotalAlloc - before.TotalAlloc, peak, nil
}

// prepareRun resets what a run needs reset, when reset is not nil, and
// settles the database.
func prepareRun(ctx context.Context, db database, reset func(context.Context) error) error {
	if reset != nil {
		if err := reset(ctx); err != nil {
			return err
		}
	}
	return db.Settle(ctx)
}

// runName names the run of repetition rep: "warm-up", then "1", "2", ...
func runName(rep int) string {
	if rep == 0 {
		return "warm-up"
	}
	return fmt.Sprint(rep)
}

// ignoreRun adapts fn to a timed run that does not need its name.
func ignoreRun(fn func(context.Context) error) func(context.Context, string) error {
	return func(ctx context.Context, _ string) error { return fn(ctx) }
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

// stop ends the sampling and returns the most bytes seen.
func (w *heapWatch) stop() uint64 {
	close(w.done)
	return <-w.peak
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

// median returns the median of xs, or 0 when there are none.
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

// percentile returns the nearest-rank q-th percentile of xs.
func percentile(xs []float64, q float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	rank := int(math.Ceil(q / 100 * float64(len(s))))
	return s[max(rank, 1)-1]
}
