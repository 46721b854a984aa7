package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// phaseFigures are the reported figures of one phase.
type phaseFigures struct {
	name          string
	seconds       float64 // median of the CreateTasks calls
	min, max      float64
	f3            float64 // median seconds of the matching F3
	f1            float64
	fr            float64 // median seconds of F_R
	rw            float64 // median seconds of F_RW, F_R then the matching F3 in one transaction
	batch         float64 // median seconds of the batch baseline; 0: not measured
	naivePerCand  float64 // median seconds per candidate of the naive baseline
	allocPerCand  float64
	peakHeapBytes uint64
}

func (f phaseFigures) perSec(candidates int) float64 { return float64(candidates) / f.seconds }
func (f phaseFigures) ratioF3() float64              { return f.seconds / f.f3 }
func (f phaseFigures) ratioF1() float64              { return f.seconds / f.f1 }
func (f phaseFigures) ratioRW() float64              { return f.seconds / f.rw }
func (f phaseFigures) speedupBatch() float64         { return f.batch / f.seconds }
func (f phaseFigures) speedup(candidates int) float64 {
	return f.naivePerCand / (f.seconds / float64(candidates))
}

func (r *report) phases() []phaseFigures {
	naiveCandidates := float64(3 * r.naivePairs)
	figures := func(name string, t callTimes, f3, rw, naive, batch []float64) phaseFigures {
		return phaseFigures{
			name: name, seconds: median(t.seconds), min: slices.Min(t.seconds), max: slices.Max(t.seconds),
			f3: median(f3), f1: median(r.f1), fr: median(r.fr), rw: median(rw), batch: median(batch), naivePerCand: median(naive) / naiveCandidates,
			allocPerCand: median(t.allocs), peakHeapBytes: t.peakHeap,
		}
	}
	return []phaseFigures{
		figures("create", r.create, r.f3Empty, r.rwEmpty, r.naiveCreate, r.batchCreate),
		figures("update", r.update, r.f3Full, r.rwFull, r.naiveUpdate, r.batchUpdate),
	}
}

// write prints the human report, then the BENCH lines, last.
func (r *report) write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "store %s: %s, Go %s %s/%s, %d CPUs\n", r.store, r.version, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Fprintf(&b, "fixture: %d pairs (%d candidates) of %d positions; %d action vectors at 2 snapshot dates, evidence %d B on average; seeded in %s\n",
		r.pairs, r.candidates, r.positions, r.rows, r.evidenceBytes, r.seeding.Round(time.Millisecond))
	if r.load[0] != "" {
		fmt.Fprintf(&b, "load average (1, 5, 15 min): %s before, %s after\n", r.load[0], r.load[1])
	}
	e := r.expected
	fmt.Fprintf(&b, "a create: %d created, %d suppressed, %d skipped, %d unmatched (minConfidence 0.6)\n",
		e.Created, e.Suppressed, e.Skipped, e.Unmatched)
	fmt.Fprintf(&b, "median of %d repetition(s) after a warm-up; F1 = bulk load of the %d written rows into an unindexed copy; "+
		"F3 = server-side INSERT ... SELECT ... ON CONFLICT of the same rows (into an empty table for create, onto the full one for update); "+
		"F_R = server-side read of the %d latest action vectors of the perimeter, staged on the server; F_RW = F_R then F3 in one transaction, begun as a call's; "+
		"batch = one read to the client, classification in Go, one bulk load and one upsert; "+
		"naive on %d pairs (%d candidates)\n\n", r.reps, r.f1Rows, r.frRows, r.naivePairs, 3*r.naivePairs)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tseconds\t(min..max)\tcandidates/s\tF1 s\tF3 s\tF_R s\tF_RW s\tt/F3\tt/F1\tt/F_RW\tbatch s\tbatch/t\tnaive µs/cand\tnaive/t\talloc B/cand\tpeak heap MiB\t")
	phases := r.phases()
	for _, p := range phases {
		fmt.Fprintf(tw, "%s\t%.3f\t(%.3f..%.3f)\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%.2f\t%.2f\t%.2f\t%.3f\t%.2f\t%.1f\t%.1f\t%.0f\t%.1f\t\n",
			p.name, p.seconds, p.min, p.max, p.perSec(r.candidates), p.f1, p.f3, p.fr, p.rw, p.ratioF3(), p.ratioF1(), p.ratioRW(),
			p.batch, p.speedupBatch(), p.naivePerCand*1e6, p.speedup(r.candidates), p.allocPerCand, float64(p.peakHeapBytes)/(1<<20))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.naiveMismatch != "" {
		fmt.Fprintf(&b, "WARNING: the naive baseline disagrees with CreateTasks: %s\n", r.naiveMismatch)
	} else {
		fmt.Fprintf(&b, "the naive baseline agrees with CreateTasks on its %d pairs\n", r.naivePairs)
	}
	for _, p := range r.profiles {
		fmt.Fprintf(&b, "profile: %s\n", p)
	}
	b.WriteString("\n")
	for _, p := range phases {
		fmt.Fprintf(&b, "BENCH store=%s phase=%s pairs=%d candidates=%d seconds=%.4f per_sec=%.1f ratio_f3=%.4f ratio_f1=%.4f speedup_naive=%.4f alloc_bytes_per_candidate=%.1f ratio_rw=%.4f speedup_batch=%.4f\n",
			r.store, p.name, r.pairs, r.candidates, p.seconds, p.perSec(r.candidates), p.ratioF3(), p.ratioF1(),
			p.speedup(r.candidates), p.allocPerCand, p.ratioRW(), p.speedupBatch())
	}
	_, err := io.WriteString(w, b.String())
	return err
}
