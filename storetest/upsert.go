package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// The cases of rule 5: creating and refreshing tasks.

func testCreatesOpenTasksWithProposedIDs(t *testing.T, s suite) {
	fx := s.fixture(t)
	restockRow := vector(acme, restock, "s2", "v1", day(1))
	markdownRow := vector(acme, markdown, "s1", "v2", day(1), snapshot(`[1, "two", {"three": [3.5, null, true]}]`))
	rebalanceRow := vector(acme, rebalance, "s1", "v1", day(1), snapshot(`"a plain string"`))
	fx.put(restockRow, markdownRow, rebalanceRow)
	req := request(acme, "run-1", 0, allDomains, position("s2", "v1"), position("s1", "v2"), position("s1", "v1"))
	// Candidates in key order: markdown s1/v1, s1/v2, s2/v1, then
	// rebalance, then restock; candidate i is proposed id i.
	fx.wantCreated("CreateTasks", req, store.Outcome{Created: 3, Unmatched: 6},
		made{markdownRow, 1}, made{rebalanceRow, 3}, made{restockRow, 8})
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
	closed := func() []taskcreate.Task { return fx.tasksIn(acme, taskcreate.StatusDone, taskcreate.StatusDismissed) }

	req.WorkflowRunID = "run-2"
	res, _ = fx.create(req)
	wantResult(t, "CreateTasks beside DONE and DISMISSED tasks", res, "run-2", store.Outcome{Created: 2})
	wantTasks(t, "DONE and DISMISSED tasks after the call", history, closed())
	wantKeys(t, fx.tasksIn(acme, taskcreate.StatusOpen), "markdown/s1/v1", "restock/s1/v1")

	req.WorkflowRunID = "run-3"
	res, _ = fx.create(req)
	wantResult(t, "CreateTasks again", res, "run-3", store.Outcome{Updated: 2})
	wantTasks(t, "DONE and DISMISSED tasks after the second call", history, closed())
	wantKeys(t, fx.tasksOfRun(acme, "run-3"), "markdown/s1/v1", "restock/s1/v1")
}

func testOwnershipMovesToNewestRun(t *testing.T, s suite) {
	fx := s.fixture(t)
	fx.put(vector(acme, restock, "s1", "v1", day(1)), vector(acme, restock, "s1", "v2", day(1)), vector(acme, restock, "s1", "v3", day(1)))
	res, _ := fx.create(request(acme, "run-1", 0, []taskcreate.Domain{restock}, position("s1", "v1"), position("s1", "v2")))
	wantResult(t, "CreateTasks of run-1", res, "run-1", store.Outcome{Created: 2})
	v2 := fx.onlyTask(acme, restock, "s1", "v2", taskcreate.StatusOpen)
	res, _ = fx.create(request(acme, "run-2", 0, []taskcreate.Domain{restock}, position("s1", "v2"), position("s1", "v3")))
	wantResult(t, "CreateTasks of run-2", res, "run-2", store.Outcome{Created: 1, Updated: 1})
	wantKeys(t, fx.tasksOfRun(acme, "run-1"), "restock/s1/v1")
	owned := fx.tasksOfRun(acme, "run-2")
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

func testPortUsesTheBatch(t *testing.T, s suite) {
	fx := s.fixture(t)
	row := vector(acme, markdown, "s1", "v2", day(1))
	fx.put(row, vector(acme, markdown, "s1", "v1", day(1), confidence(0.3)))
	now := time.Date(2031, 12, 31, 23, 59, 59, 999999000, time.UTC)
	b := &store.Batch{
		OrganizationID: acme, WorkflowRunID: "run-port", MinConfidence: 0.5, Priority: taskcreate.PriorityUrgent, Now: now,
		Domains:     []taskcreate.Domain{markdown, restock},
		Pairs:       []taskcreate.Pair{position("s1", "v1"), position("s1", "v2")},
		ProposedIDs: store.IDList(sequenceID(40), sequenceID(30), sequenceID(20), sequenceID(10)),
	}
	out, err := fx.store.MaterializeTasks(fx.ctx, b)
	noError(t, err, "MaterializeTasks")
	wantEqual(t, "outcome of MaterializeTasks", formatOutcome(store.Outcome{Created: 1, Suppressed: 1, Unmatched: 2}), formatOutcome(out))
	if out.Candidates != nil {
		t.Errorf("MaterializeTasks of a batch that did not ask for them listed candidates: %+v", out.Candidates)
	}
	wantTasks(t, "tasks after MaterializeTasks", []taskcreate.Task{
		taskFrom(row, sequenceID(30), "run-port", taskcreate.PriorityUrgent, now),
	}, fx.tasks(acme))
}

// testPortUsesARunOfIDs gives a batch a run of ids (store.IDRun, the
// default of taskcreate) whose count carries across a byte: each created
// task has the id of its candidate's place.
func testPortUsesARunOfIDs(t *testing.T, s suite) {
	fx := s.fixture(t)
	pairs := []taskcreate.Pair{position("s1", "v1"), position("s1", "v2"), position("s1", "v3"), position("s2", "v1"), position("s2", "v2")}
	domains := []taskcreate.Domain{markdown, restock}
	var rows []taskcreate.ActionVector
	for _, d := range domains {
		for _, p := range pairs {
			rows = append(rows, vector(acme, d, p.ShopID, p.VariantID, day(1)))
		}
	}
	fx.put(rows...)
	ids, err := store.IDRun(uuid.MustParse("0198b5a0-0000-7000-80ff-fffffffffffc"), len(rows))
	noError(t, err, "IDRun")
	now := stamp(fx.clock.tick())
	b := &store.Batch{
		OrganizationID: acme, WorkflowRunID: "run-ids", Priority: taskcreate.PriorityMedium, Now: now,
		Domains: domains, Pairs: pairs, ProposedIDs: ids,
	}
	out, err := fx.store.MaterializeTasks(fx.ctx, b)
	noError(t, err, "MaterializeTasks")
	wantEqual(t, "outcome of MaterializeTasks", formatOutcome(store.Outcome{Created: len(rows)}), formatOutcome(out))
	var want []taskcreate.Task
	for i, row := range rows { // rows are in the batch's order of candidates
		want = append(want, taskFrom(row, ids.At(i), "run-ids", taskcreate.PriorityMedium, now))
	}
	wantTasks(t, "tasks after MaterializeTasks", want, fx.tasks(acme))
}

// Tenant isolation: an organization reads and writes its own rows only.

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
	// acme's restock snapshot is day 3 (globex's day 5 is not acme's), s1/v3
	// is only globex's, and acme has no markdown or rebalance rows.
	// Candidates: markdown 0-2, rebalance 3-5, restock 6-8; ids 0-5 went to globex.
	fx.wantCreated("CreateTasks of acme", req, store.Outcome{Created: 2, Unmatched: 7}, made{first, 6 + 6}, made{second, 6 + 7})
	wantTasks(t, "tasks of globex after acme's call", globexTasks, fx.tasks(globex))

	// ACME is a third tenant: it sees neither acme's nor globex's rows.
	req.OrganizationID = acmeCase
	res, _ = fx.create(req)
	wantResult(t, "CreateTasks of ACME", res, "run-a", store.Outcome{Unmatched: 9})
	wantTasks(t, "tasks of ACME", nil, fx.tasks(acmeCase))
	wantTasks(t, "tasks of globex after ACME's call", globexTasks, fx.tasks(globex))
}
