package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
	"github.com/google/uuid"
)

// Organizations of the cases. "ACME" differs from "acme" only in case: they
// are two tenants all the same.
const (
	acme     = "acme"
	acmeCase = "ACME"
	globex   = "globex"
)

// The cases of rule 1: which snapshot a candidate reads.

func testLatestSnapshotIsRead(t *testing.T, s suite) {
	fx := s.fixture(t)
	latest := vector(acme, restock, "s1", "v1", day(3), qty(7), confidence(0.9))
	fx.put(
		vector(acme, restock, "s1", "v1", day(1), qty(1)),
		latest,
		vector(acme, restock, "s1", "v1", day(2), qty(5)),
	)
	res, at := fx.create(request(acme, "run-1", 0.5, []taskcreate.Domain{restock}, position("s1", "v1")))
	wantResult(t, "CreateTasks", res, "run-1", store.Outcome{Created: 1})
	wantTasks(t, "tasks after the call", []taskcreate.Task{
		taskFrom(latest, sequenceID(0), "run-1", taskcreate.PriorityMedium, at),
	}, fx.tasks(acme))
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
	res, at := fx.create(request(acme, "run-1", 0, []taskcreate.Domain{restock}, position("s1", "v1"), position("s2", "v2")))
	wantResult(t, "CreateTasks", res, "run-1", store.Outcome{Created: 1, Unmatched: 1})
	// Candidate 0 is s1/v1, candidate 1 is s2/v2.
	wantTasks(t, "tasks after the call", []taskcreate.Task{
		taskFrom(current, sequenceID(1), "run-1", taskcreate.PriorityMedium, at),
	}, fx.tasks(acme))
}

func testDomainsHaveTheirOwnLatestDate(t *testing.T, s suite) {
	fx := s.fixture(t)
	markdownRow := vector(acme, markdown, "s1", "v1", day(1))
	fx.put(
		markdownRow,
		vector(acme, restock, "s1", "v1", day(1)),
		vector(acme, restock, "s2", "v2", day(5)), // restock's latest date is day 5
	)
	res, at := fx.create(request(acme, "run-1", 0, allDomains, position("s1", "v1")))
	// markdown reads day 1, its own latest; restock reads day 5, where
	// s1/v1 is absent; rebalance has no snapshot at all.
	wantResult(t, "CreateTasks", res, "run-1", store.Outcome{Created: 1, Unmatched: 2})
	wantTasks(t, "tasks after the call", []taskcreate.Task{
		taskFrom(markdownRow, sequenceID(0), "run-1", taskcreate.PriorityMedium, at),
	}, fx.tasks(acme))
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
	res, at := fx.create(request(acme, "run-1", 0, []taskcreate.Domain{restock}, position("s1", "v1")))
	wantResult(t, "CreateTasks", res, "run-1", store.Outcome{Created: 1})
	wantTasks(t, "tasks of acme", []taskcreate.Task{
		taskFrom(own, sequenceID(0), "run-1", taskcreate.PriorityMedium, at),
	}, fx.tasks(acme))
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
	res, at := fx.create(request(acme, "run-1", 0, []taskcreate.Domain{restock}, position("s1", "v1"), position("s1", "v2")))
	wantResult(t, "CreateTasks", res, "run-1", store.Outcome{Created: 2})
	// taskFrom expects the SnapshotDate 2025-05-10T00:00:00Z of both.
	wantTasks(t, "tasks after the call", []taskcreate.Task{
		taskFrom(early, sequenceID(0), "run-1", taskcreate.PriorityMedium, at),
		taskFrom(late, sequenceID(1), "run-1", taskcreate.PriorityMedium, at),
	}, fx.tasks(acme))
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
	res, at := fx.create(request(acme, "run-1", 1, []taskcreate.Domain{restock}, position("s1", "v1")))
	wantResult(t, "CreateTasks with minConfidence 1", res, "run-1", store.Outcome{Created: 1})
	wantTasks(t, "tasks after the call", []taskcreate.Task{
		taskFrom(row, sequenceID(0), "run-1", taskcreate.PriorityMedium, at),
	}, fx.tasks(acme))
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
	wantKeys(t, fx.list(taskcreate.TaskFilter{OrganizationID: acme, WorkflowRunID: "run-1"}), "restock/s1/v1")
	wantKeys(t, fx.list(taskcreate.TaskFilter{OrganizationID: acme, WorkflowRunID: "run-2"}), "restock/s1/v3")
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
	wantKeys(t, fx.list(taskcreate.TaskFilter{OrganizationID: acme, WorkflowRunID: "run-2"}), "restock/s1/v3", "restock/s1/v4")
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
	res, at := fx.create(request(acme, "run-1", 0, []taskcreate.Domain{restock, rebalance},
		position("s1", "v-null"), position("s1", "v-zero"), position("s1", "v-negative"), position("s1", "v-one")))
	wantResult(t, "CreateTasks", res, "run-1", store.Outcome{Created: 2, Skipped: 6})
	// Pairs in key order: v-negative, v-null, v-one, v-zero.
	wantTasks(t, "tasks after the call", []taskcreate.Task{
		taskFrom(kept[0], sequenceID(2), "run-1", taskcreate.PriorityMedium, at),
		taskFrom(kept[1], sequenceID(6), "run-1", taskcreate.PriorityMedium, at),
	}, fx.tasks(acme))
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
	res, at := fx.create(request(acme, "run-1", 0, []taskcreate.Domain{markdown},
		position("s1", "v-null"), position("s1", "v-zero"), position("s1", "v-negative"), position("s1", "v-small")))
	wantResult(t, "CreateTasks", res, "run-1", store.Outcome{Created: 1, Skipped: 3})
	// Pairs in key order: v-negative, v-null, v-small, v-zero.
	wantTasks(t, "tasks after the call", []taskcreate.Task{
		taskFrom(kept, sequenceID(2), "run-1", taskcreate.PriorityMedium, at),
	}, fx.tasks(acme))
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
	res, at := fx.create(request(org, `run "1"`, 0, []taskcreate.Domain{restock},
		position(`shop "a"`, `var\1`), position("shop'b", `v%_[1]{"x":1}`), position(`shop "a"`, "var")))
	wantResult(t, "CreateTasks", res, `run "1"`, store.Outcome{Created: 2, Unmatched: 1})
	// Pairs in key order: `shop "a"`/var (unmatched), `shop "a"`/`var\1`, shop'b.
	wantTasks(t, "tasks after the call", []taskcreate.Task{
		taskFrom(first, sequenceID(1), `run "1"`, taskcreate.PriorityMedium, at),
		taskFrom(second, sequenceID(2), `run "1"`, taskcreate.PriorityMedium, at),
	}, fx.tasks(org))
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
		Domains: taskcreate.Domains(), Pairs: []taskcreate.Pair{}, ProposedIDs: []uuid.UUID{},
	})
	noError(t, err, "MaterializeTasks of a batch without pairs")
	wantEqual(t, "outcome of a batch without pairs", formatOutcome(store.Outcome{}), formatOutcome(out))
	wantTasks(t, "tasks", nil, fx.tasks(acme))
}

// The cases of rule 5: creating and refreshing tasks.

func testCreatesOpenTasksWithProposedIDs(t *testing.T, s suite) {
	fx := s.fixture(t)
	restockRow := vector(acme, restock, "s2", "v1", day(1))
	markdownRow := vector(acme, markdown, "s1", "v2", day(1), snapshot(`[1, "two", {"three": [3.5, null, true]}]`))
	rebalanceRow := vector(acme, rebalance, "s1", "v1", day(1), snapshot(`"a plain string"`))
	fx.put(restockRow, markdownRow, rebalanceRow)
	res, at := fx.create(request(acme, "run-1", 0, allDomains,
		position("s2", "v1"), position("s1", "v2"), position("s1", "v1")))
	wantResult(t, "CreateTasks", res, "run-1", store.Outcome{Created: 3, Unmatched: 6})
	// Candidates in key order: markdown s1/v1, s1/v2, s2/v1, then
	// rebalance, then restock; candidate i is proposed id i.
	wantTasks(t, "tasks after the call", []taskcreate.Task{
		taskFrom(markdownRow, sequenceID(1), "run-1", taskcreate.PriorityMedium, at),
		taskFrom(rebalanceRow, sequenceID(3), "run-1", taskcreate.PriorityMedium, at),
		taskFrom(restockRow, sequenceID(8), "run-1", taskcreate.PriorityMedium, at),
	}, fx.tasks(acme))
}

func testNewTasksTakeTheServicePriority(t *testing.T, s suite) {
	fx := s.fixture(t)
	first := vector(acme, restock, "s1", "v1", day(1))
	second := vector(acme, restock, "s1", "v2", day(1))
	fx.put(first)
	res, at1 := fx.create(request(acme, "run-1", 0, []taskcreate.Domain{restock}, position("s1", "v1")),
		taskcreate.WithDefaultPriority(taskcreate.PriorityHigh))
	wantResult(t, "CreateTasks with priority HIGH", res, "run-1", store.Outcome{Created: 1})
	fx.put(second)
	// A LOW service creates v2 with LOW and refreshes v1, which keeps HIGH.
	res, at2 := fx.create(request(acme, "run-2", 0, []taskcreate.Domain{restock}, position("s1", "v1"), position("s1", "v2")),
		taskcreate.WithDefaultPriority(taskcreate.PriorityLow))
	wantResult(t, "CreateTasks with priority LOW", res, "run-2", store.Outcome{Created: 1, Updated: 1})
	v1 := taskFrom(first, sequenceID(0), "run-1", taskcreate.PriorityHigh, at1)
	wantTasks(t, "tasks after both calls", []taskcreate.Task{
		refreshed(v1, first, "run-2", at2),
		taskFrom(second, sequenceID(2), "run-2", taskcreate.PriorityLow, at2),
	}, fx.tasks(acme))
}

func testUpdatesOpenTask(t *testing.T, s suite) {
	fx := s.fixture(t)
	fx.put(vector(acme, restock, "s1", "v1", day(1), qty(3), confidence(0.8)))
	res, _ := fx.create(request(acme, "run-1", 0, []taskcreate.Domain{restock}, position("s1", "v1")),
		taskcreate.WithDefaultPriority(taskcreate.PriorityUrgent))
	wantResult(t, "first CreateTasks", res, "run-1", store.Outcome{Created: 1})
	before := fx.onlyTask(acme, restock, "s1", "v1", taskcreate.StatusOpen)
	fx.setStatus(acme, before.ID, taskcreate.StatusInProgress)
	before = fx.onlyTask(acme, restock, "s1", "v1", taskcreate.StatusInProgress)

	// A newer snapshot changes every part of the recommendation.
	newer := vector(acme, restock, "s1", "v1", day(2), qty(9), discount(12.5), noConfidence, snapshot(`{"why": "newer", "n": [1, 2]}`))
	fx.put(newer)
	res, at := fx.create(request(acme, "run-2", 0.9, []taskcreate.Domain{restock}, position("s1", "v1")))
	wantResult(t, "second CreateTasks", res, "run-2", store.Outcome{Updated: 1})
	// Same id, status, priority and created_at; new run, recommendation and updated_at.
	wantTasks(t, "tasks after the update", []taskcreate.Task{refreshed(before, newer, "run-2", at)}, fx.tasks(acme))
}

func testHistoryIsLeftAlone(t *testing.T, s suite) {
	fx := s.fixture(t)
	fx.put(vector(acme, restock, "s1", "v1", day(1)), vector(acme, markdown, "s1", "v1", day(1)))
	req := request(acme, "run-1", 0, []taskcreate.Domain{restock, markdown}, position("s1", "v1"))
	res, _ := fx.create(req)
	wantResult(t, "first CreateTasks", res, "run-1", store.Outcome{Created: 2})
	fx.setStatus(acme, fx.onlyTask(acme, restock, "s1", "v1", taskcreate.StatusOpen).ID, taskcreate.StatusDone)
	fx.setStatus(acme, fx.onlyTask(acme, markdown, "s1", "v1", taskcreate.StatusOpen).ID, taskcreate.StatusDismissed)
	history := fx.tasks(acme)

	req.WorkflowRunID = "run-2"
	res, _ = fx.create(req)
	wantResult(t, "CreateTasks beside DONE and DISMISSED tasks", res, "run-2", store.Outcome{Created: 2})
	wantTasks(t, "DONE and DISMISSED tasks after the call",
		history, fx.list(taskcreate.TaskFilter{OrganizationID: acme, Statuses: []taskcreate.Status{taskcreate.StatusDone, taskcreate.StatusDismissed}}))
	wantKeys(t, fx.list(taskcreate.TaskFilter{OrganizationID: acme, Statuses: []taskcreate.Status{taskcreate.StatusOpen}}),
		"markdown/s1/v1", "restock/s1/v1")

	req.WorkflowRunID = "run-3"
	res, _ = fx.create(req)
	wantResult(t, "CreateTasks again", res, "run-3", store.Outcome{Updated: 2})
	wantTasks(t, "DONE and DISMISSED tasks after the second call",
		history, fx.list(taskcreate.TaskFilter{OrganizationID: acme, Statuses: []taskcreate.Status{taskcreate.StatusDone, taskcreate.StatusDismissed}}))
	wantKeys(t, fx.list(taskcreate.TaskFilter{OrganizationID: acme, WorkflowRunID: "run-3"}), "markdown/s1/v1", "restock/s1/v1")
}

func testOwnershipMovesToNewestRun(t *testing.T, s suite) {
	fx := s.fixture(t)
	fx.put(vector(acme, restock, "s1", "v1", day(1)), vector(acme, restock, "s1", "v2", day(1)), vector(acme, restock, "s1", "v3", day(1)))
	res, _ := fx.create(request(acme, "run-1", 0, []taskcreate.Domain{restock}, position("s1", "v1"), position("s1", "v2")))
	wantResult(t, "CreateTasks of run-1", res, "run-1", store.Outcome{Created: 2})
	v2 := fx.onlyTask(acme, restock, "s1", "v2", taskcreate.StatusOpen)
	res, _ = fx.create(request(acme, "run-2", 0, []taskcreate.Domain{restock}, position("s1", "v2"), position("s1", "v3")))
	wantResult(t, "CreateTasks of run-2", res, "run-2", store.Outcome{Created: 1, Updated: 1})
	wantKeys(t, fx.list(taskcreate.TaskFilter{OrganizationID: acme, WorkflowRunID: "run-1"}), "restock/s1/v1")
	owned := fx.list(taskcreate.TaskFilter{OrganizationID: acme, WorkflowRunID: "run-2"})
	wantKeys(t, owned, "restock/s1/v2", "restock/s1/v3")
	wantEqual(t, "id of the task that moved to run-2", v2.ID, owned[0].ID)
}

func testIdempotent(t *testing.T, s suite) {
	fx := s.fixture(t)
	fx.put(
		vector(acme, restock, "s1", "v1", day(1)),
		vector(acme, restock, "s1", "v2", day(1)),
		vector(acme, restock, "s1", "v3", day(1), confidence(0.1)),
		vector(acme, markdown, "s1", "v1", day(1), noDiscount),
		vector(acme, markdown, "s1", "v2", day(1)),
		vector(acme, markdown, "s2", "v9", day(1)),
	)
	// An earlier run leaves one open and one DONE task.
	res, _ := fx.create(request(acme, "run-0", 0, allDomains, position("s1", "v1"), position("s2", "v9")))
	wantResult(t, "CreateTasks of run-0", res, "run-0", store.Outcome{Created: 2, Skipped: 1, Unmatched: 3})
	fx.setStatus(acme, fx.onlyTask(acme, markdown, "s2", "v9", taskcreate.StatusOpen).ID, taskcreate.StatusDone)

	req := request(acme, "run-1", 0.5, allDomains,
		position("s1", "v1"), position("s1", "v2"), position("s1", "v3"), position("s2", "v9"), position("s3", "v0"))
	first, _ := fx.create(req)
	wantResult(t, "first CreateTasks of run-1", first, "run-1",
		store.Outcome{Created: 3, Updated: 1, Suppressed: 1, Skipped: 1, Unmatched: 9})
	after := fx.tasks(acme)

	second, at := fx.create(req)
	wantResult(t, "second CreateTasks of run-1", second, "run-1", store.Outcome{
		Updated: first.Created + first.Updated, Suppressed: first.Suppressed, Skipped: first.Skipped, Unmatched: first.Unmatched})
	// The same tasks, refreshed at the second call's time.
	want := slices.Clone(after)
	for i := range want {
		if want[i].WorkflowRunID == "run-1" {
			want[i].UpdatedAt = at
		}
	}
	wantTasks(t, "tasks after the second call", want, fx.tasks(acme))
}

// Tenant isolation.

func testTenantIsolation(t *testing.T, s suite) {
	fx := s.fixture(t)
	// globex has the same ids, later snapshots and tasks for the same keys.
	fx.put(
		vector(globex, restock, "s1", "v1", day(5)),
		vector(globex, restock, "s1", "v3", day(5)),
		vector(globex, markdown, "s1", "v1", day(5)),
	)
	res, _ := fx.create(request(globex, "run-g", 0, allDomains, position("s1", "v1"), position("s1", "v3")))
	wantResult(t, "CreateTasks of globex", res, "run-g", store.Outcome{Created: 3, Unmatched: 3})
	fx.setStatus(globex, fx.onlyTask(globex, markdown, "s1", "v1", taskcreate.StatusOpen).ID, taskcreate.StatusDone)
	globexTasks := fx.tasks(globex)

	first := vector(acme, restock, "s1", "v1", day(3))
	second := vector(acme, restock, "s1", "v2", day(3))
	fx.put(first, second)
	req := request(acme, "run-a", 0, allDomains, position("s1", "v1"), position("s1", "v2"), position("s1", "v3"))
	res, at := fx.create(req)
	// acme's restock snapshot is day 3 (globex's day 5 is not acme's), s1/v3
	// is only globex's, and acme has no markdown or rebalance rows.
	wantResult(t, "CreateTasks of acme", res, "run-a", store.Outcome{Created: 2, Unmatched: 7})
	// Candidates: markdown 0-2, rebalance 3-5, restock 6-8; ids 0-5 went to globex.
	wantTasks(t, "tasks of acme", []taskcreate.Task{
		taskFrom(first, sequenceID(6+6), "run-a", taskcreate.PriorityMedium, at),
		taskFrom(second, sequenceID(6+7), "run-a", taskcreate.PriorityMedium, at),
	}, fx.tasks(acme))
	wantTasks(t, "tasks of globex after acme's call", globexTasks, fx.tasks(globex))

	// ACME is a third tenant: it sees neither acme's nor globex's rows.
	req.OrganizationID = acmeCase
	res, _ = fx.create(req)
	wantResult(t, "CreateTasks of ACME", res, "run-a", store.Outcome{Unmatched: 9})
	wantTasks(t, "tasks of ACME", nil, fx.tasks(acmeCase))
	wantTasks(t, "tasks of globex after ACME's call", globexTasks, fx.tasks(globex))
}

// wantKeys stops the test unless tasks are exactly one per key of keys
// ("domain/shop/variant"), in that order.
func wantKeys(t *testing.T, tasks []taskcreate.Task, keys ...string) {
	t.Helper()
	got := make([]string, len(tasks))
	for i, task := range tasks {
		got[i] = string(task.Domain) + "/" + task.ShopID + "/" + task.VariantID
	}
	if !slices.Equal(got, keys) {
		t.Fatalf("task keys: want %q, got %q", keys, got)
	}
}
