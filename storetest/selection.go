package storetest

import (
	"testing"
	"time"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// The cases of rules 1 to 4: which snapshot a candidate reads, and which
// candidates become tasks and which are suppressed, skipped or unmatched.
// Most make a single call and check it with wantCreated.

// made is a task a call creates from row, with id sequenceID(id).
type made struct {
	row taskcreate.ActionVector
	id  uint64
}

// wantCreated makes the call req, checks that it reports the counts of want,
// and that req's organization then has exactly the tasks in tasks, in
// ListTasks order: each new, owned by req's run, of the default priority.
func (fx *fixture) wantCreated(what string, req taskcreate.Request, want store.Outcome, tasks ...made) {
	fx.t.Helper()
	res, at := fx.create(req)
	wantResult(fx.t, what, res, req.WorkflowRunID, want)
	var created []taskcreate.Task
	for _, m := range tasks {
		created = append(created, taskFrom(m.row, sequenceID(m.id), req.WorkflowRunID, taskcreate.PriorityMedium, at))
	}
	wantTasks(fx.t, "tasks after "+what, created, fx.tasks(req.OrganizationID))
}

// The cases of rule 1: which snapshot a candidate reads.

func testLatestSnapshotIsRead(t *testing.T, s suite) {
	fx := s.fixture(t)
	latest := vector(acme, restock, "s1", "v1", day(3), qty(7), confidence(0.9))
	fx.put(
		vector(acme, restock, "s1", "v1", day(1), qty(1)),
		latest,
		vector(acme, restock, "s1", "v1", day(2), qty(5)),
	)
	fx.wantCreated("CreateTasks", request(acme, "run-1", 0.5, []taskcreate.Domain{restock}, position("s1", "v1")),
		store.Outcome{Created: 1}, made{latest, 0})
}

func testOlderSnapshotOnlyIsUnmatched(t *testing.T, s suite) {
	fx := s.fixture(t)
	// s1/v1 recommends something on days 1 and 2, but the latest snapshot
	// of the domain (day 3) does not have it.
	current := vector(acme, restock, "s2", "v2", day(3))
	fx.put(
		vector(acme, restock, "s1", "v1", day(1)),
		vector(acme, restock, "s1", "v1", day(2)),
		current,
	)
	// Candidate 0 is s1/v1, candidate 1 is s2/v2.
	fx.wantCreated("CreateTasks", request(acme, "run-1", 0, []taskcreate.Domain{restock}, position("s1", "v1"), position("s2", "v2")),
		store.Outcome{Created: 1, Unmatched: 1}, made{current, 1})
}

func testDomainsHaveTheirOwnLatestDate(t *testing.T, s suite) {
	fx := s.fixture(t)
	markdownRow := vector(acme, markdown, "s1", "v1", day(1))
	fx.put(
		markdownRow,
		vector(acme, restock, "s1", "v1", day(1)),
		vector(acme, restock, "s2", "v2", day(5)), // restock's latest date is day 5
	)
	// markdown reads day 1, its own latest; restock reads day 5, where
	// s1/v1 is absent; rebalance has no snapshot at all.
	fx.wantCreated("CreateTasks", request(acme, "run-1", 0, allDomains, position("s1", "v1")),
		store.Outcome{Created: 1, Unmatched: 2}, made{markdownRow, 0})
}

func testOtherOrganizationDoesNotMoveLatestDate(t *testing.T, s suite) {
	fx := s.fixture(t)
	own := vector(acme, restock, "s1", "v1", day(2))
	fx.put(
		own,
		vector(globex, restock, "s1", "v1", day(4)),
		vector(globex, restock, "s2", "v2", day(6)),
		vector(acmeCase, restock, "s3", "v3", day(9)),
	)
	fx.wantCreated("CreateTasks of acme", request(acme, "run-1", 0, []taskcreate.Domain{restock}, position("s1", "v1")),
		store.Outcome{Created: 1}, made{own, 0})
	wantTasks(t, "tasks of globex", nil, fx.tasks(globex))
	wantTasks(t, "tasks of ACME", nil, fx.tasks(acmeCase))
}

func testSnapshotDateIsCalendarDay(t *testing.T, s suite) {
	fx := s.fixture(t)
	// Both rows are dated 2025-05-10 in their own zones, but in UTC one is
	// on the 9th and the other on the 11th: a store that converts them to
	// UTC finds two snapshots and leaves v1 unmatched.
	early := vector(acme, restock, "s1", "v1", time.Date(2025, 5, 10, 1, 30, 0, 0, time.FixedZone("UTC+5", 5*3600)))
	late := vector(acme, restock, "s1", "v2", time.Date(2025, 5, 10, 23, 30, 0, 0, time.FixedZone("UTC-7", -7*3600)))
	fx.put(early, late)
	// taskFrom expects the SnapshotDate 2025-05-10T00:00:00Z of both.
	fx.wantCreated("CreateTasks", request(acme, "run-1", 0, []taskcreate.Domain{restock}, position("s1", "v1"), position("s1", "v2")),
		store.Outcome{Created: 2}, made{early, 0}, made{late, 1})
}

// The cases of rules 2 to 4 and the counts of a result.

func testExactCounts(t *testing.T, s suite) {
	fx := s.fixture(t)
	fx.put(
		vector(acme, restock, "s1", "v1", day(1)),                  // created
		vector(acme, restock, "s1", "v2", day(1), confidence(0.2)), // suppressed
		vector(acme, restock, "s1", "v3", day(1), qty(0)),          // skipped
		// restock s1/v4: no row, unmatched
		vector(acme, markdown, "s1", "v1", day(1)),                  // created
		vector(acme, markdown, "s1", "v2", day(1), noDiscount),      // skipped
		vector(acme, markdown, "s1", "v3", day(1), confidence(0.1)), // suppressed
		vector(acme, markdown, "s1", "v4", day(1)),                  // created
		// rebalance: no snapshot at all, every candidate unmatched
	)
	req := request(acme, "run-1", 0.5, allDomains,
		position("s1", "v4"), position("s1", "v1"), position("s1", "v3"), position("s1", "v2"))
	res, _ := fx.create(req)
	wantResult(t, "CreateTasks", res, "run-1", store.Outcome{Created: 3, Suppressed: 2, Skipped: 2, Unmatched: 5})
	wantKeys(t, fx.tasks(acme), "markdown/s1/v1", "markdown/s1/v4", "restock/s1/v1")
}

func testNullConfidenceIsNeverSuppressed(t *testing.T, s suite) {
	fx := s.fixture(t)
	row := vector(acme, restock, "s1", "v1", day(1), noConfidence)
	fx.put(row)
	fx.wantCreated("CreateTasks with minConfidence 1", request(acme, "run-1", 1, []taskcreate.Domain{restock}, position("s1", "v1")),
		store.Outcome{Created: 1}, made{row, 0})
}

func testConfidenceEqualToThresholdIsKept(t *testing.T, s suite) {
	fx := s.fixture(t)
	fx.put(
		vector(acme, restock, "s1", "v1", day(1), confidence(0.7)),
		vector(acme, restock, "s1", "v2", day(1), confidence(0.6999999999)),
		vector(acme, restock, "s1", "v3", day(1), confidence(1)),
	)
	ps := []taskcreate.Pair{position("s1", "v1"), position("s1", "v2"), position("s1", "v3")}
	res, _ := fx.create(request(acme, "run-1", 0.7, []taskcreate.Domain{restock}, ps...))
	wantResult(t, "CreateTasks with minConfidence 0.7", res, "run-1", store.Outcome{Created: 2, Suppressed: 1})
	wantKeys(t, fx.tasks(acme), "restock/s1/v1", "restock/s1/v3")

	// At 1, only the row at 1 is kept; the suppressed v1 is not touched.
	res, _ = fx.create(request(acme, "run-2", 1, []taskcreate.Domain{restock}, ps...))
	wantResult(t, "CreateTasks with minConfidence 1", res, "run-2", store.Outcome{Updated: 1, Suppressed: 2})
	wantKeys(t, fx.tasksOfRun(acme, "run-1"), "restock/s1/v1")
	wantKeys(t, fx.tasksOfRun(acme, "run-2"), "restock/s1/v3")
}

func testZeroMinConfidenceDisablesFiltering(t *testing.T, s suite) {
	fx := s.fixture(t)
	fx.put(
		vector(acme, restock, "s1", "v1", day(1), confidence(0)),
		vector(acme, restock, "s1", "v2", day(1), confidence(-0.25)), // below 0, yet 0 filters nothing
		vector(acme, restock, "s1", "v3", day(1), confidence(0.01)),
		vector(acme, restock, "s1", "v4", day(1), noConfidence),
	)
	ps := []taskcreate.Pair{position("s1", "v1"), position("s1", "v2"), position("s1", "v3"), position("s1", "v4")}
	res, _ := fx.create(request(acme, "run-1", 0, []taskcreate.Domain{restock}, ps...))
	wantResult(t, "CreateTasks with minConfidence 0", res, "run-1", store.Outcome{Created: 4})

	res, _ = fx.create(request(acme, "run-2", 0.01, []taskcreate.Domain{restock}, ps...))
	wantResult(t, "CreateTasks with minConfidence 0.01", res, "run-2", store.Outcome{Updated: 2, Suppressed: 2})
	wantKeys(t, fx.tasksOfRun(acme, "run-2"), "restock/s1/v3", "restock/s1/v4")
}

func testSuppressedBeforeSkipped(t *testing.T, s suite) {
	fx := s.fixture(t)
	// The row recommends nothing and is not confident: rule 3 comes first.
	fx.put(vector(acme, restock, "s1", "v1", day(1), qty(0), confidence(0.1)))
	req := request(acme, "run-1", 0.5, []taskcreate.Domain{restock}, position("s1", "v1"))
	res, _ := fx.create(req)
	wantResult(t, "CreateTasks with minConfidence 0.5", res, "run-1", store.Outcome{Suppressed: 1})
	req.MinConfidence = 0
	res, _ = fx.create(req)
	wantResult(t, "CreateTasks with minConfidence 0", res, "run-1", store.Outcome{Skipped: 1})
	wantTasks(t, "tasks", nil, fx.tasks(acme))
}

func testSkippedWithoutQuantity(t *testing.T, s suite) {
	fx := s.fixture(t)
	var kept []taskcreate.ActionVector
	for _, d := range []taskcreate.Domain{rebalance, restock} {
		// Every row has a discount, which restock and rebalance ignore.
		fx.put(
			vector(acme, d, "s1", "v-null", day(1), noQty, discount(20)),
			vector(acme, d, "s1", "v-zero", day(1), qty(0), discount(20)),
			vector(acme, d, "s1", "v-negative", day(1), qty(-4), discount(20)),
		)
		row := vector(acme, d, "s1", "v-one", day(1), qty(1), discount(20))
		fx.put(row)
		kept = append(kept, row)
	}
	req := request(acme, "run-1", 0, []taskcreate.Domain{restock, rebalance},
		position("s1", "v-null"), position("s1", "v-zero"), position("s1", "v-negative"), position("s1", "v-one"))
	// Pairs in key order: v-negative, v-null, v-one, v-zero.
	fx.wantCreated("CreateTasks", req, store.Outcome{Created: 2, Skipped: 6}, made{kept[0], 2}, made{kept[1], 6})
}

func testSkippedWithoutDiscount(t *testing.T, s suite) {
	fx := s.fixture(t)
	// Every row has a quantity, which markdown ignores.
	kept := vector(acme, markdown, "s1", "v-small", day(1), discount(0.01), qty(10))
	fx.put(
		vector(acme, markdown, "s1", "v-null", day(1), noDiscount, qty(10)),
		vector(acme, markdown, "s1", "v-zero", day(1), discount(0), qty(10)),
		vector(acme, markdown, "s1", "v-negative", day(1), discount(-5), qty(10)),
		kept,
	)
	req := request(acme, "run-1", 0, []taskcreate.Domain{markdown},
		position("s1", "v-null"), position("s1", "v-zero"), position("s1", "v-negative"), position("s1", "v-small"))
	// Pairs in key order: v-negative, v-null, v-small, v-zero.
	fx.wantCreated("CreateTasks", req, store.Outcome{Created: 1, Skipped: 3}, made{kept, 2})
}

func testDuplicatesAreCollapsed(t *testing.T, s suite) {
	fx := s.fixture(t)
	fx.put(vector(acme, restock, "s1", "v1", day(1)), vector(acme, markdown, "s2", "v1", day(1)))
	req := request(acme, "run-1", 0, []taskcreate.Domain{restock, restock, markdown, restock},
		position("s1", "v1"), position("s2", "v1"), position("s1", "v1"), position("s2", "v1"), position("s1", "v1"))
	res, _ := fx.create(req)
	// Two unique pairs times two unique domains.
	wantResult(t, "CreateTasks", res, "run-1", store.Outcome{Created: 2, Unmatched: 2})
	wantKeys(t, fx.tasks(acme), "markdown/s2/v1", "restock/s1/v1")
	res, _ = fx.create(req)
	wantResult(t, "CreateTasks again", res, "run-1", store.Outcome{Updated: 2, Unmatched: 2})
	wantKeys(t, fx.tasks(acme), "markdown/s2/v1", "restock/s1/v1")
}

func testIdentifiersAreOpaque(t *testing.T, s suite) {
	fx := s.fixture(t)
	// Quotes, backslashes, SQL wildcards and JSON escapes are ordinary
	// characters of an identifier: nothing may parse them.
	org := `o'rg "1" \ %_`
	first := vector(org, restock, `shop "a"`, `var\1`, day(1))
	second := vector(org, restock, "shop'b", `v%_[1]{"x":1}`, day(1))
	fx.put(first, second)
	req := request(org, `run "1"`, 0, []taskcreate.Domain{restock},
		position(`shop "a"`, `var\1`), position("shop'b", `v%_[1]{"x":1}`), position(`shop "a"`, "var"))
	// Pairs in key order: `shop "a"`/var (unmatched), `shop "a"`/`var\1`, shop'b.
	fx.wantCreated("CreateTasks", req, store.Outcome{Created: 2, Unmatched: 1}, made{first, 1}, made{second, 2})
}

func testEmptyPerimeter(t *testing.T, s suite) {
	fx := s.fixture(t)
	fx.put(vector(acme, restock, "s1", "v1", day(1)))
	res, _ := fx.create(request(acme, "run-1", 0, allDomains))
	wantResult(t, "CreateTasks with an empty perimeter", res, "run-1", store.Outcome{})
	req := request(acme, "run-2", 0, allDomains)
	req.Perimeter = nil
	res, _ = fx.create(req)
	wantResult(t, "CreateTasks with a nil perimeter", res, "run-2", store.Outcome{})
	// The service may not even call the store; the port must cope all the same.
	out, err := fx.store.MaterializeTasks(fx.ctx, &store.Batch{
		OrganizationID: acme, WorkflowRunID: "run-3", Priority: taskcreate.PriorityMedium, Now: stamp(fx.clock.tick()),
		Domains: taskcreate.Domains(), Pairs: []taskcreate.Pair{},
	})
	noError(t, err, "MaterializeTasks of a batch without pairs")
	wantEqual(t, "outcome of a batch without pairs", formatOutcome(store.Outcome{}), formatOutcome(out))
	wantTasks(t, "tasks", nil, fx.tasks(acme))
}
