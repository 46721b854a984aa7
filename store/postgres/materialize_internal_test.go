package postgres

import (
	"slices"
	"testing"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

func TestPairsByVariant(t *testing.T) {
	b := &store.Batch{Pairs: []taskcreate.Pair{ // in key order: by shop, then variant
		{ShopID: "s1", VariantID: "v2"},
		{ShopID: "s1", VariantID: "v3"},
		{ShopID: "s2", VariantID: "v1"},
		{ShopID: "s2", VariantID: "v2"},
		{ShopID: "s3", VariantID: "v1"},
	}}
	// The places of (v1,s2) (v1,s3) (v2,s1) (v2,s2) (v3,s1).
	if got, want := pairsByVariant(b), []int{2, 4, 0, 3, 1}; !slices.Equal(got, want) {
		t.Errorf("pairsByVariant: got %v, want %v", got, want)
	}
	if got := pairsByVariant(&store.Batch{}); len(got) != 0 {
		t.Errorf("pairsByVariant of no pairs: got %v", got)
	}
}
