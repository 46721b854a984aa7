package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
	"github.com/google/uuid"
)

// The cases of section 7 of SPEC.md: dry run, outcomes per candidate,
// retiring stale tasks, sweeping a run.

// lifecycleFixture leaves acme with tasks for restock s1/v1..v5, made by
// run-1 from day 1, and a day-2 snapshot in which v1 is suppressed (at
// minConfidence 0.5), v2 skipped, v3 unmatched, v4 and v6 recommended; v3's
// task is IN_PROGRESS and v5's DONE. globex has the same tasks, all OPEN.
// It returns the request of run-2 over v1..v6 at minConfidence 0.5, and
// acme's tasks by variant.
func lifecycleFixture(fx *fixture) (taskcreate.Request, map[string]taskcreate.Task) {
	fx.t.Helper()
	var first []taskcreate.ActionVector
	var ps []taskcreate.Pair
	for _, org := range []string{acme, globex} {
		for _, v := range []string{"v1", "v2", "v3", "v4", "v5"} {
			first = append(first, vector(org, restock, "s1", v, day(1)))
		}
	}
	for _, v := range []string{"v1", "v2", "v3", "v4", "v5"} {
		ps = append(ps, position("s1", v))
	}
	fx.put(first...)
	for _, org := range []string{acme, globex} {
		res, _ := fx.create(request(org, "run-1", 0, []taskcreate.Domain{restock}, ps...))
		wantResult(fx.t, "CreateTasks of run-1 for "+org, res, "run-1", store.Outcome{Created: 5})
	}
	fx.setStatus(acme, fx.onlyTask(acme, restock, "s1", "v3", taskcreate.StatusOpen).ID, taskcreate.StatusInProgress)
	fx.setStatus(acme, fx.onlyTask(acme, restock, "s1", "v5", taskcreate.StatusOpen).ID, taskcreate.StatusDone)
	fx.put(
		vector(acme, restock, "s1", "v1", day(2), confidence(0.2)),
		vector(acme, restock, "s1", "v2", day(2), qty(0)),
		vector(acme, restock, "s1", "v4", day(2), qty(9)),
		vector(acme, restock, "s1", "v5", day(2), qty(4)),
		vector(acme, restock, "s1", "v6", day(2)),
		vector(globex, restock, "s1", "v1", day(2), confidence(0.2)),
	)
	tasks := map[string]taskcreate.Task{}
	for _, task := range fx.tasks(acme) {
		tasks[task.VariantID] = task
	}
	ps = append(ps, position("s1", "v6"))
	return request(acme, "run-2", 0.5, []taskcreate.Domain{restock}, ps...), tasks
}

// lifecycleOutcome is what the request of lifecycleFixture does, with
// RetireStale: v1 and v2 are retired, v3 is left in progress, v4 is
// updated, v5 and v6 get new tasks (v5's DONE one is history).
var lifecycleOutcome = store.Outcome{Created: 2, Updated: 1, Suppressed: 1, Skipped: 1, Unmatched: 1, Retired: 2}

func testDryRunWritesNothing(t *testing.T, s suite) {
	fx := s.fixture(t)
	req, _ := lifecycleFixture(fx)
	req.RetireStale, req.DryRun = true, true
	before := map[string][]taskcreate.Task{acme: fx.tasks(acme), globex: fx.tasks(globex)}
	for range 2 {
		res, err := fx.service(fx.clock.tick()).CreateTasks(fx.ctx, req)
		noError(t, err, "CreateTasks with DryRun")
		if msg := resultDiffCode(res, "run-2", taskcreate.SuccessCodeTasksPreviewed, lifecycleOutcome); msg != "" {
			t.Fatalf("dry run: %s", msg)
		}
		for org, tasks := range before {
			wantTasks(t, "tasks of "+org+" after a dry run", tasks, fx.tasks(org))
		}
	}
	// The same call for real reports what the dry run said.
	req.DryRun = false
	res, _ := fx.create(req)
	wantResult(t, "the call after its dry run", res, "run-2", lifecycleOutcome)
}

func testDryRunHoldsNoLock(t *testing.T, s suite) {
	fx := s.fixture(t)
	req, tasks := lifecycleFixture(fx)
	req.RetireStale, req.DryRun, req.ReturnOutcomes = true, true, true
	_, err := fx.service(fx.clock.tick()).CreateTasks(fx.ctx, req)
	noError(t, err, "CreateTasks with DryRun")
	// Writes to every key the dry run read go through at once.
	ctx, cancel := context.WithTimeout(fx.ctx, 10*time.Second)
	defer cancel()
	noError(t, fx.store.SetTaskStatus(ctx, acme, tasks["v4"].ID, taskcreate.StatusInProgress), "SetTaskStatus after a dry run")
	req.DryRun = false
	_, err = fx.service(fx.clock.tick()).CreateTasks(ctx, req)
	noError(t, err, "CreateTasks after a dry run")
}

func testOutcomesPerCandidate(t *testing.T, s suite) {
	fx := s.fixture(t)
	req, tasks := lifecycleFixture(fx)
	req.ReturnOutcomes, req.RetireStale = true, true
	outcome := func(variant string, o taskcreate.OutcomeKind, id uuid.UUID, retired bool) taskcreate.CandidateOutcome {
		return taskcreate.CandidateOutcome{Domain: restock, ShopID: "s1", VariantID: variant, Outcome: o, TaskID: id, Retired: retired}
	}

	req.DryRun = true
	res, err := fx.service(fx.clock.tick()).CreateTasks(fx.ctx, req)
	noError(t, err, "CreateTasks with DryRun and ReturnOutcomes")
	want := []taskcreate.CandidateOutcome{
		outcome("v1", taskcreate.OutcomeSuppressed, tasks["v1"].ID, true),
		outcome("v2", taskcreate.OutcomeSkipped, tasks["v2"].ID, true),
		outcome("v3", taskcreate.OutcomeUnmatched, uuid.Nil, false), // in progress: not retired
		outcome("v4", taskcreate.OutcomeUpdated, tasks["v4"].ID, false),
		outcome("v5", taskcreate.OutcomeCreated, uuid.Nil, false), // a dry run has no id for a new task
		outcome("v6", taskcreate.OutcomeCreated, uuid.Nil, false),
	}
	if msg := outcomesDiff(want, res.Outcomes); msg != "" {
		t.Fatalf("outcomes of the dry run:\n%s", msg)
	}

	req.DryRun = false
	first := fx.ids.peek()
	res, _ = fx.create(req)
	wantResult(t, "CreateTasks with ReturnOutcomes", res, "run-2", lifecycleOutcome)
	want[4].TaskID, want[5].TaskID = sequenceID(first+4), sequenceID(first+5) // the ids proposed for candidates 4 and 5
	if msg := outcomesDiff(want, res.Outcomes); msg != "" {
		t.Fatalf("outcomes of the call:\n%s", msg)
	}

	// Without the option there is no list; with no candidate it is empty.
	req.ReturnOutcomes = false
	res, _ = fx.create(req)
	if res.Outcomes != nil {
		t.Errorf("outcomes listed though not asked for: %+v", res.Outcomes)
	}
	req.ReturnOutcomes, req.Perimeter = true, []taskcreate.Pair{}
	res, _ = fx.create(req)
	if res.Outcomes == nil || len(res.Outcomes) != 0 {
		t.Errorf("outcomes of a call with no candidate: want an empty list, got %#v", res.Outcomes)
	}
}

func testRetireStale(t *testing.T, s suite) {
	fx := s.fixture(t)
	req, tasks := lifecycleFixture(fx)
	globexBefore := fx.tasks(globex)
	// A call on other keys of acme: v1 and v2 are outside its perimeter,
	// markdown is not a domain of the calls below.
	fx.put(vector(acme, markdown, "s1", "v1", day(1)))
	res, _ := fx.create(request(acme, "run-0", 0, []taskcreate.Domain{markdown}, position("s1", "v1")))
	wantResult(t, "CreateTasks of a markdown task", res, "run-0", store.Outcome{Created: 1})
	markdownTask := fx.onlyTask(acme, markdown, "s1", "v1", taskcreate.StatusOpen)

	outside := req
	outside.Perimeter, outside.RetireStale = req.Perimeter[2:], true // v3..v6
	res, _ = fx.create(outside)
	wantResult(t, "a retiring call without v1 and v2", res, "run-2", store.Outcome{Created: 2, Updated: 1, Unmatched: 1})
	if got := fx.onlyTask(acme, restock, "s1", "v1", taskcreate.StatusOpen); got.WorkflowRunID != "run-1" {
		t.Errorf("a key outside the perimeter was touched: %s", describeTask(got))
	}

	req.RetireStale = true
	res, at := fx.create(req)
	wantResult(t, "the retiring call", res, "run-2", store.Outcome{Updated: 3, Suppressed: 1, Skipped: 1, Unmatched: 1, Retired: 2})
	for _, v := range []string{"v1", "v2"} {
		want := tasks[v]
		want.Status, want.WorkflowRunID, want.UpdatedAt = taskcreate.StatusDismissed, "run-2", at
		wantTasks(t, "retired task of "+v, []taskcreate.Task{want}, []taskcreate.Task{fx.onlyTask(acme, restock, "s1", v, taskcreate.StatusDismissed)})
	}
	wantEqual(t, "the IN_PROGRESS task of an unmatched candidate", tasks["v3"].UpdatedAt, fx.onlyTask(acme, restock, "s1", "v3", taskcreate.StatusInProgress).UpdatedAt)
	wantEqual(t, "the DONE task", tasks["v5"].UpdatedAt, fx.onlyTask(acme, restock, "s1", "v5", taskcreate.StatusDone).UpdatedAt)
	wantTasks(t, "the task of a domain the call did not ask for", []taskcreate.Task{markdownTask},
		[]taskcreate.Task{fx.onlyTask(acme, markdown, "s1", "v1", taskcreate.StatusOpen)})
	wantTasks(t, "tasks of another organization", globexBefore, fx.tasks(globex))

	// Retired tasks are history: a new recommendation creates beside them,
	// and the same call again retires nothing more.
	res, _ = fx.create(req)
	wantResult(t, "the retiring call again", res, "run-2", store.Outcome{Updated: 3, Suppressed: 1, Skipped: 1, Unmatched: 1})
	fx.put(vector(acme, restock, "s1", "v1", day(3)), vector(acme, restock, "s1", "v4", day(3)))
	res, _ = fx.create(req)
	wantResult(t, "after a newer snapshot", res, "run-2", store.Outcome{Created: 1, Updated: 1, Unmatched: 4, Retired: 2})
}

func testSweepRun(t *testing.T, s suite) {
	fx := s.fixture(t)
	req, tasks := lifecycleFixture(fx)
	globexBefore := fx.tasks(globex)
	// run-2 refreshes v4 (and creates v5, v6): run-1 still owns v1 and v2
	// (OPEN), v3 (IN_PROGRESS) and v5 (DONE).
	res, _ := fx.create(req)
	wantResult(t, "CreateTasks of run-2", res, "run-2", store.Outcome{Created: 2, Updated: 1, Suppressed: 1, Skipped: 1, Unmatched: 1})
	sweep := taskcreate.SweepRequest{OrganizationID: acme, WorkflowRunID: "run-1"}

	dry := sweep
	dry.DryRun = true
	got, err := fx.service(fx.clock.tick()).SweepRun(fx.ctx, dry)
	noError(t, err, "SweepRun with DryRun")
	wantEqual(t, "dry sweep", taskcreate.SweepResult{WorkflowRunID: "run-1", SuccessCode: taskcreate.SuccessCodeTasksPreviewed, Dismissed: 2}, got)
	wantEqual(t, "OPEN tasks of run-1 after a dry sweep", 2,
		len(fx.list(taskcreate.TaskFilter{OrganizationID: acme, WorkflowRunID: "run-1", Statuses: []taskcreate.Status{taskcreate.StatusOpen}})))

	at := fx.clock.tick()
	got, err = fx.service(at).SweepRun(fx.ctx, sweep)
	noError(t, err, "SweepRun")
	wantEqual(t, "sweep", taskcreate.SweepResult{WorkflowRunID: "run-1", SuccessCode: taskcreate.SuccessCodeTasksSwept, Dismissed: 2}, got)
	for _, v := range []string{"v1", "v2"} {
		want := tasks[v]
		want.Status, want.UpdatedAt = taskcreate.StatusDismissed, stamp(at)
		wantTasks(t, "swept task of "+v, []taskcreate.Task{want}, []taskcreate.Task{fx.onlyTask(acme, restock, "s1", v, taskcreate.StatusDismissed)})
	}
	wantTasks(t, "the IN_PROGRESS task run-1 owns", []taskcreate.Task{tasks["v3"]}, []taskcreate.Task{fx.onlyTask(acme, restock, "s1", "v3", taskcreate.StatusInProgress)})
	wantEqual(t, "the task run-2 refreshed", "run-2", fx.onlyTask(acme, restock, "s1", "v4", taskcreate.StatusOpen).WorkflowRunID)
	wantTasks(t, "tasks of another organization", globexBefore, fx.tasks(globex))

	got, err = fx.service(fx.clock.tick()).SweepRun(fx.ctx, sweep)
	noError(t, err, "SweepRun again")
	wantEqual(t, "a second sweep", 0, got.Dismissed)
	got, err = fx.service(fx.clock.tick()).SweepRun(fx.ctx, taskcreate.SweepRequest{OrganizationID: acme, WorkflowRunID: "run-none"})
	noError(t, err, "SweepRun of a run with no task")
	wantEqual(t, "a sweep of a run with no task", 0, got.Dismissed)
	_, err = fx.service(fx.clock.tick()).SweepRun(fx.ctx, taskcreate.SweepRequest{OrganizationID: acme})
	wantErrorIs(t, err, taskcreate.ErrInvalidRequest, "SweepRun without a run")
}

// testSweepRacesCreate sweeps run-1 while run-2 refreshes the same keys:
// each key ends with exactly one open task, run-2's, whichever came first,
// and the two calls account for every key once.
func testSweepRacesCreate(t *testing.T, s suite) {
	const rounds, keys = 6, 60
	fx := s.fixture(t)
	var rows []taskcreate.ActionVector
	var ps []taskcreate.Pair
	for i := range keys {
		p := position(fmt.Sprintf("s%d", i%4), fmt.Sprintf("v%02d", i))
		ps = append(ps, p)
		rows = append(rows, vector(acme, restock, p.ShopID, p.VariantID, day(1)))
	}
	fx.put(rows...)
	for round := range rounds {
		old, next := fmt.Sprintf("run-%d", 2*round), fmt.Sprintf("run-%d", 2*round+1)
		if round == 0 {
			res, _ := fx.create(request(acme, old, 0, []taskcreate.Domain{restock}, ps...))
			wantResult(t, "CreateTasks of the first run", res, old, store.Outcome{Created: keys})
		}
		var wg sync.WaitGroup
		var created taskcreate.Result
		var swept taskcreate.SweepResult
		var createErr, sweepErr error
		ctx, cancel := context.WithTimeout(fx.ctx, waitLimit)
		createSvc, sweepSvc := fx.service(fx.clock.tick()), fx.service(fx.clock.tick())
		wg.Go(func() {
			created, createErr = createSvc.CreateTasks(ctx, request(acme, next, 0, []taskcreate.Domain{restock}, ps...))
		})
		wg.Go(func() {
			swept, sweepErr = sweepSvc.SweepRun(ctx, taskcreate.SweepRequest{OrganizationID: acme, WorkflowRunID: old})
		})
		wg.Wait()
		cancel()
		noError(t, createErr, fmt.Sprintf("round %d: CreateTasks racing a sweep", round))
		noError(t, sweepErr, fmt.Sprintf("round %d: SweepRun racing a create", round))
		// A key swept first gets a new task; a key refreshed first is no
		// longer the old run's to sweep.
		wantEqual(t, fmt.Sprintf("round %d: tasks created", round), swept.Dismissed, created.Created)
		wantEqual(t, fmt.Sprintf("round %d: tasks created and updated", round), keys, created.Created+created.Updated)
		open := fx.tasksIn(acme, taskcreate.StatusOpen, taskcreate.StatusInProgress)
		seen := map[taskKey]bool{}
		for _, task := range open {
			if seen[keyOf(task)] || task.WorkflowRunID != next {
				t.Fatalf("round %d: open task %s: want one per key, owned by %s", round, describeTask(task), next)
			}
			seen[keyOf(task)] = true
		}
		wantEqual(t, fmt.Sprintf("round %d: open tasks", round), keys, len(open))
	}
}
