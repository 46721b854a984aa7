package postgres_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/taskcreate"
)

// A refresh is a HOT update: no index holds a column it changes, and the
// page has room for the new version, so it adds no index entry and the
// table does not grow. Two refreshes of 3,000 tasks leave every index, and
// the table, the size the creation made them; with the run index of the
// first layout, every refresh adds an entry to each index.
func TestRefreshIsAHeapOnlyUpdate(t *testing.T) {
	s := newStore(t)
	schema := storeSchema(s)
	ctx := t.Context()
	ps := pairs(3000)
	require.NoError(t, s.PutActionVectors(ctx, restockVectors("org", ps)))
	sizes := func() (table, indexes int64) {
		t.Helper()
		require.NoError(t, testPool(t).QueryRowContext(ctx,
			`SELECT pg_relation_size($1::regclass), pg_indexes_size($1::regclass)`, schema+".tasks").Scan(&table, &indexes))
		return table, indexes
	}
	svc := taskcreate.New(s)
	call := func(run string, created int) {
		t.Helper()
		res, err := svc.CreateTasks(ctx, taskcreate.Request{OrganizationID: "org", WorkflowRunID: run,
			Domains: []taskcreate.Domain{taskcreate.Restock}, Perimeter: ps})
		require.NoError(t, err)
		require.Equal(t, [2]int{created, len(ps) - created}, [2]int{res.Created, res.Updated})
	}
	call("run-1", len(ps))
	table, indexes := sizes()
	for i := 2; i <= 3; i++ {
		call(fmt.Sprintf("run-%d", i), 0)
		gotTable, gotIndexes := sizes()
		assert.Equal(t, indexes, gotIndexes, "refresh %d added index entries", i-1)
		assert.Equal(t, table, gotTable, "refresh %d grew the table", i-1)
	}
}
