package taskcreate_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

func batchOf(domains, pairs int) *store.Batch {
	b := &store.Batch{Domains: taskcreate.Domains()[:domains]}
	for p := range pairs {
		b.Pairs = append(b.Pairs, taskcreate.Pair{ShopID: fmt.Sprintf("s%03d", p), VariantID: "v"})
	}
	for i := range b.Len() {
		b.ProposedIDs = append(b.ProposedIDs, uuid.UUID{14: byte(i >> 8), 15: byte(i)})
	}
	return b
}

// candidate is one (domain, pair) of a batch, "domain/shop/variant", and
// the id proposed for it.
type candidate struct {
	key string
	id  uuid.UUID
}

// candidatesOf lists the candidates of b as the Batch documents them:
// Domains x Pairs in that order, ProposedIDs[i] for candidate i.
func candidatesOf(b *store.Batch) []candidate {
	var out []candidate
	for _, d := range b.Domains {
		for _, p := range b.Pairs {
			out = append(out, candidate{string(d) + "/" + p.ShopID + "/" + p.VariantID, b.ProposedIDs[len(out)]})
		}
	}
	return out
}

func TestChunksCoverTheBatchInKeyOrder(t *testing.T) {
	for domains := 1; domains <= 3; domains++ {
		for _, pairs := range []int{0, 1, 2, 7, 50} {
			for _, size := range []int{0, 1, 3, 7, 49, 50, 51, 100, 149, 150, 1000} {
				t.Run(fmt.Sprintf("%dx%d/%d", domains, pairs, size), func(t *testing.T) {
					b := batchOf(domains, pairs)
					var got []candidate
					for offset, c := range b.Chunks(size) {
						require.Equal(t, len(got), offset, "chunk offset")
						require.NotZero(t, c.Len(), "empty chunk")
						if size > 0 {
							assert.LessOrEqual(t, c.Len(), max(size, 1))
						}
						require.Len(t, c.ProposedIDs, c.Len())
						got = append(got, candidatesOf(c)...)
					}
					assert.Equal(t, candidatesOf(b), got)
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
