package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// Scale: one call with tens of thousands of candidates.

func testLargeBatch(t *testing.T, s suite) {
	const shops, variants = 17, 1000 // 17,000 pairs, 51,000 candidates
	fx := s.fixture(t)
	var rows []taskcreate.ActionVector
	var perimeter []taskcreate.Pair
	var want store.Outcome
	for i := range shops * variants {
		shop, variant := fmt.Sprintf("shop-%02d", i%shops), fmt.Sprintf("variant-%05d", i)
		perimeter = append(perimeter, position(shop, variant))
		rows = append(rows, largeBatchRows(shop, variant, i, &want)...)
	}
	fx.put(rows...)
	slices.Reverse(perimeter)

	res, _ := fx.create(request(acme, "run-1", 0.5, allDomains, perimeter...))
	wantResult(t, "CreateTasks over 51,000 candidates", res, "run-1", want)
	wantEqual(t, "tasks of run-1", want.Created, len(fx.tasksOfRun(acme, "run-1")))

	res, _ = fx.create(request(acme, "run-2", 0.5, allDomains, perimeter...))
	want.Created, want.Updated = 0, want.Created
	wantResult(t, "CreateTasks over 51,000 candidates again", res, "run-2", want)
	wantEqual(t, "tasks of run-2", want.Updated, len(fx.tasksOfRun(acme, "run-2")))
	wantEqual(t, "tasks of acme", want.Updated, len(fx.tasks(acme)))
	t.Logf("%d candidates, %d action vectors", 3*shops*variants, len(rows))
}

// largeBatchRows returns the rows of pair i of the large batch, for a
// known subset of the pairs: 3/8 in restock, 1/5 in markdown, 1/20 in
// rebalance. It adds the outcomes of the pair's three candidates to want.
func largeBatchRows(shop, variant string, i int, want *store.Outcome) []taskcreate.ActionVector {
	var rows []taskcreate.ActionVector
	switch i % 8 {
	case 0:
		rows = append(rows, vector(acme, restock, shop, variant, day(1), qty(1+i%7)))
		want.Created++
	case 1:
		rows = append(rows, vector(acme, restock, shop, variant, day(1), qty(0)))
		want.Skipped++
	case 2:
		rows = append(rows, vector(acme, restock, shop, variant, day(1), confidence(0.1)))
		want.Suppressed++
	default:
		want.Unmatched++
	}
	switch i % 10 {
	case 0:
		rows = append(rows, vector(acme, markdown, shop, variant, day(1)))
		want.Created++
	case 1:
		rows = append(rows, vector(acme, markdown, shop, variant, day(1), noDiscount))
		want.Skipped++
	default:
		want.Unmatched++
	}
	if i%20 == 0 {
		rows = append(rows, vector(acme, rebalance, shop, variant, day(1)))
		want.Created++
	} else {
		want.Unmatched++
	}
	return rows
}
