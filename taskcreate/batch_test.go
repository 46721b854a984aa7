package taskcreate_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/taskcreate"
)

func batchOf(domains, pairs int) *taskcreate.Batch {
	b := &taskcreate.Batch{Domains: taskcreate.Domains()[:domains]}
	for p := range pairs {
		b.Pairs = append(b.Pairs, taskcreate.Pair{ShopID: fmt.Sprintf("s%03d", p), VariantID: "v"})
	}
	for i := range b.Len() {
		b.ProposedIDs = append(b.ProposedIDs, uuid.UUID{14: byte(i >> 8), 15: byte(i)})
	}
	return b
}

func TestChunksCoverTheBatchInKeyOrder(t *testing.T) {
	for domains := 1; domains <= 3; domains++ {
		for _, pairs := range []int{0, 1, 2, 7, 50} {
			for _, size := range []int{0, 1, 3, 7, 49, 50, 51, 100, 149, 150, 1000} {
				t.Run(fmt.Sprintf("%dx%d/%d", domains, pairs, size), func(t *testing.T) {
					b := batchOf(domains, pairs)
					var got []taskcreate.Candidate
					for offset, c := range b.Chunks(size) {
						require.Equal(t, len(got), offset, "chunk offset")
						require.NotZero(t, c.Len(), "empty chunk")
						if size > 0 {
							assert.LessOrEqual(t, c.Len(), max(size, 1))
						}
						require.Len(t, c.ProposedIDs, c.Len())
						for _, cand := range c.Candidates() {
							got = append(got, cand)
						}
					}
					var want []taskcreate.Candidate
					for _, cand := range b.Candidates() {
						want = append(want, cand)
					}
					assert.Equal(t, want, got)
				})
			}
		}
	}
}

func TestChunksStopWhenAsked(t *testing.T) {
	b := batchOf(3, 10)
	n := 0
	for range b.Chunks(4) {
		n++
		if n == 2 {
			break
		}
	}
	assert.Equal(t, 2, n)
}

func TestPairsByVariant(t *testing.T) {
	b := &taskcreate.Batch{Pairs: []taskcreate.Pair{ // in key order: by shop, then variant
		{ShopID: "s1", VariantID: "v2"},
		{ShopID: "s1", VariantID: "v3"},
		{ShopID: "s2", VariantID: "v1"},
		{ShopID: "s2", VariantID: "v2"},
		{ShopID: "s3", VariantID: "v1"},
	}}
	assert.Equal(t, []int{2, 4, 0, 3, 1}, b.PairsByVariant(), "places of (v1,s2) (v1,s3) (v2,s1) (v2,s2) (v3,s1)")
	assert.Empty(t, (&taskcreate.Batch{}).PairsByVariant())
}
