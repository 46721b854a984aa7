package store

import (
	"encoding/binary"
	"fmt"

	"github.com/google/uuid"
)

// IDs are the ids proposed for the candidates of a batch: At(i) is the id
// candidate i gets if it creates a task. No two are equal, nor equal to an
// id proposed to another batch.
//
// An IDs is a list held in memory (IDList), or a run of consecutive ids
// (IDRun), which stores only its first id however long it is: a batch of
// 3,000,000 candidates, most of which write no task, need not carry 48 MB
// of ids. The zero IDs holds none.
type IDs struct {
	list  []uuid.UUID
	first uuid.UUID // of a run
	n     int       // of a run; -1 for a list
}

// IDList returns the ids of list: At(i) is list[i]. It does not copy list.
func IDList(list ...uuid.UUID) IDs { return IDs{list: list, n: -1} }

// IDRun returns the run of n ids from first: At(i) is first with i added
// to its last eight bytes, read as a big-endian integer. Those bytes of a
// UUIDv7 hold its variant and 62 random bits: from one whose top random
// bit is clear, a run of up to 2^61 ids keeps the variant of every id. It
// returns an error if n is negative or the last id would change the
// variant.
func IDRun(first uuid.UUID, n int) (IDs, error) {
	low := binary.BigEndian.Uint64(first[8:])
	const random = 1<<62 - 1 // the bits below the variant
	if n < 0 || n > 0 && uint64(n-1) > random-low&random {
		return IDs{}, fmt.Errorf("store: a run of %d ids from %s overflows its random bits into the variant", n, first)
	}
	return IDs{first: first, n: n}, nil
}

// Len returns the number of ids.
func (ids IDs) Len() int {
	if ids.n < 0 {
		return len(ids.list)
	}
	return ids.n
}

// At returns the i-th id. It panics if i is out of range, as a slice does.
func (ids IDs) At(i int) uuid.UUID {
	if ids.n < 0 {
		return ids.list[i]
	}
	if i < 0 || i >= ids.n {
		panic(fmt.Sprintf("store: id %d of a run of %d", i, ids.n))
	}
	id := ids.first
	binary.BigEndian.PutUint64(id[8:], binary.BigEndian.Uint64(id[8:])+uint64(i))
	return id
}
