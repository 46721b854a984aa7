package store_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/store"
)

func TestIDRunCountsInItsLastEightBytes(t *testing.T) {
	first := uuid.MustParse("019a0000-0000-7abc-9fff-ffffffffff00")
	ids, err := store.IDRun(first, 0x200)
	require.NoError(t, err)
	assert.Equal(t, 0x200, ids.Len())
	assert.Equal(t, first, ids.At(0))
	assert.Equal(t, uuid.MustParse("019a0000-0000-7abc-9fff-ffffffffffff"), ids.At(0xff))
	assert.Equal(t, uuid.MustParse("019a0000-0000-7abc-a000-000000000000"), ids.At(0x100), "a carry stays below the variant")
	last := ids.At(0x1ff)
	assert.Equal(t, uuid.MustParse("019a0000-0000-7abc-a000-0000000000ff"), last)
	assert.Equal(t, uuid.Version(7), last.Version())
	assert.Equal(t, uuid.RFC4122, last.Variant())
	assert.Panics(t, func() { ids.At(0x200) })
	assert.Panics(t, func() { ids.At(-1) })
}

func TestIDRunRefusesToOverflowTheVariant(t *testing.T) {
	first := uuid.MustParse("019a0000-0000-7abc-bfff-ffffffffff00")
	_, err := store.IDRun(first, 0x100)
	require.NoError(t, err, "the last id is ...bfff-ffffffffffff")
	_, err = store.IDRun(first, 0x101)
	assert.ErrorContains(t, err, "overflows")
	_, err = store.IDRun(first, -1)
	assert.Error(t, err)
	empty, err := store.IDRun(first, 0)
	require.NoError(t, err)
	assert.Zero(t, empty.Len())
}

func TestIDListAndTheZeroIDs(t *testing.T) {
	a, b := uuid.New(), uuid.New()
	ids := store.IDList(a, b)
	assert.Equal(t, 2, ids.Len())
	assert.Equal(t, b, ids.At(1))
	assert.Panics(t, func() { ids.At(2) })
	var none store.IDs
	assert.Zero(t, none.Len())
	assert.Zero(t, store.IDList().Len())
}
