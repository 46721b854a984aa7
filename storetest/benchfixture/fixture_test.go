package benchfixture

import (
	"fmt"
	"iter"
	"math"
	"slices"
	"testing"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// TestShape checks the promises of the package documentation: Expected
// agrees with the rows Rows yields, and the latest snapshot has the
// advertised proportions.
func TestShape(t *testing.T) {
	f := New(Config{Pairs: 5000, Seed: 7})
	if got := len(f.Request("run", -1).Perimeter); got != 5000 {
		t.Fatalf("perimeter of %d pairs, want 5000", got)
	}
	type key struct {
		pair   taskcreate.Pair
		domain taskcreate.Domain
	}
	latest := map[key]taskcreate.ActionVector{}
	var rows, latestRows, nulls, low, evidenceBytes int
	for chunk := range f.Rows(777) {
		for _, v := range chunk {
			rows++
			evidenceBytes += len(v.Snapshot)
			if !v.SnapshotDate.Equal(f.Latest) {
				continue
			}
			latestRows++
			latest[key{taskcreate.Pair{VariantID: v.VariantID, ShopID: v.ShopID}, v.Domain}] = v
			switch {
			case v.Confidence == nil:
				nulls++
			case *v.Confidence < DefaultMinConfidence:
				low++
			}
		}
	}
	for chunk := range f.Rows(1000) {
		if err := store.ValidateActionVectors(chunk); err != nil {
			t.Fatalf("the first rows are invalid: %v", err)
		}
		break
	}

	// Classify the first 1000 pairs by hand, as the rules say.
	req := f.Request("run", 1000)
	var want store.Outcome
	for _, p := range req.Perimeter {
		for _, d := range req.Domains {
			v, ok := latest[key{p, d}]
			switch {
			case !ok:
				want.Unmatched++
			case v.Confidence != nil && *v.Confidence < req.MinConfidence:
				want.Suppressed++
			case d == taskcreate.Markdown && (v.RecommendedDiscountPct == nil || *v.RecommendedDiscountPct <= 0),
				d != taskcreate.Markdown && (v.RecommendedQty == nil || *v.RecommendedQty <= 0):
				want.Skipped++
			default:
				want.Created++
			}
		}
	}
	if got := f.Expected(1000); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Expected(1000) = %+v, the rows say %+v", got, want)
	}

	near := func(what string, got, want float64) {
		if math.Abs(got-want) > 0.02 {
			t.Errorf("%s: %.3f, want about %.2f", what, got, want)
		}
	}
	near("rows in the latest snapshot per (position, domain)", float64(latestRows)/float64(3*f.Positions()), present)
	near("share of NULL confidences", float64(nulls)/float64(latestRows), nullConf)
	near("share of suppressed rows", float64(low)/float64(latestRows), lowConf)
	if avg := evidenceBytes / rows; avg < 250 || avg > 350 {
		t.Errorf("evidence of %d bytes on average, want about 300", avg)
	}
}

// TestDeterministic checks that a seed gives the same fixture twice.
func TestDeterministic(t *testing.T) {
	a, b := New(Config{Pairs: 300, Seed: 3}), New(Config{Pairs: 300, Seed: 3})
	if !slices.Equal(a.Request("r", -1).Perimeter, b.Request("r", -1).Perimeter) {
		t.Fatal("two fixtures of one seed have different perimeters")
	}
	next, stop := iter.Pull(b.Rows(100))
	defer stop()
	for chunk := range a.Rows(100) {
		other, ok := next()
		if !ok || len(other) != len(chunk) {
			t.Fatal("two fixtures of one seed have different row counts")
		}
		for i := range chunk {
			if string(chunk[i].Snapshot) != string(other[i].Snapshot) || chunk[i].ShopID != other[i].ShopID {
				t.Fatalf("row %d differs between two fixtures of one seed", i)
			}
		}
	}
}
