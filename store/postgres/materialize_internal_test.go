package postgres

import (
	"cmp"
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

// chunkKey is one candidate of a chunk, "variant/shop/domain", and the id
// proposed for it.
type chunkKey struct {
	key string
	id  uuid.UUID
}

func TestChunksCoverTheBatchInTheLockOrder(t *testing.T) {
	for domains := 1; domains <= 3; domains++ {
		for _, pairs := range []int{1, 2, 7, 50} {
			for _, size := range []int{1, 2, 3, 7, 49, 50, 51, 100, 149, 150, 1000} {
				t.Run(fmt.Sprintf("%dx%d/%d", domains, pairs, size), func(t *testing.T) {
					b := &store.Batch{Domains: store.Domains()[:domains]}
					for p := range pairs { // ascending by shop, then variant; variants descend
						b.Pairs = append(b.Pairs, store.Pair{ShopID: fmt.Sprintf("s%03d", p%5), VariantID: fmt.Sprintf("v%03d", 100-p)})
					}
					slices.SortFunc(b.Pairs, func(p, q store.Pair) int {
						return cmp.Or(cmp.Compare(p.ShopID, q.ShopID), cmp.Compare(p.VariantID, q.VariantID))
					})
					ids, err := store.IDRun(uuid.UUID{8: 0x80}, b.Len())
					require.NoError(t, err)
					b.ProposedIDs = ids
					// Every candidate of b, in the lock order, with its id.
					var want []chunkKey
					for _, i := range pairsByVariant(b) {
						for d, domain := range b.Domains {
							p := b.Pairs[i]
							want = append(want, chunkKey{p.VariantID + "/" + p.ShopID + "/" + string(domain), b.ProposedIDs.At(d*pairs + i)})
						}
					}
					var got []chunkKey
					placed := map[int]bool{}
					for c, place := range chunks(b, size) {
						require.NotZero(t, c.Len(), "empty chunk")
						require.LessOrEqual(t, c.Len(), size)
						require.Equal(t, c.Len(), c.ProposedIDs.Len())
						// The chunk's candidates in the order its statement takes them.
						for _, i := range pairsByVariant(c) {
							for d, domain := range c.Domains {
								p, local := c.Pairs[i], d*len(c.Pairs)+i
								got = append(got, chunkKey{p.VariantID + "/" + p.ShopID + "/" + string(domain), c.ProposedIDs.At(local)})
								at := place(local)
								require.False(t, placed[at], "candidate %d placed twice", at)
								placed[at] = true
								assert.Equal(t, b.ProposedIDs.At(at), c.ProposedIDs.At(local), "place of candidate %d", local)
							}
						}
					}
					assert.Equal(t, want, got)
				})
			}
		}
	}
}

func TestChunksStopWhenAsked(t *testing.T) {
	b := &store.Batch{Domains: store.Domains(), Pairs: []store.Pair{{ShopID: "s1", VariantID: "v1"}, {ShopID: "s2", VariantID: "v1"}}}
	b.ProposedIDs = store.IDList(make([]uuid.UUID, b.Len())...)
	n := 0
	for range chunks(b, 2) {
		n++
		if n == 2 {
			break
		}
	}
	assert.Equal(t, 2, n)
}
