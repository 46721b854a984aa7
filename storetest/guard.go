package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// The cases of sections 7.5 and 7.6 of SPEC.md: the retirement budget and
// the pinned snapshot.

// budgetFixture leaves acme with open OPEN restock tasks for n positions,
// made by run-1 from day 1, a day-2 snapshot that has only the first
// loaded of them (the rest unmatched), and one IN_PROGRESS task more,
// whose position day 2 lacks too and which no budget counts. It returns
// the RetireStale request of run-2 over every position.
func budgetFixture(fx *fixture, n, loaded int) taskcreate.Request {
	fx.t.Helper()
	var first, second []taskcreate.ActionVector
	var ps []taskcreate.Pair
	for i := range n + 1 {
		v := fmt.Sprintf("v%03d", i)
		ps = append(ps, position("s1", v))
		first = append(first, vector(acme, restock, "s1", v, day(1)))
		if i < loaded {
			second = append(second, vector(acme, restock, "s1", v, day(2)))
		}
	}
	fx.put(first...)
	res, _ := fx.create(request(acme, "run-1", 0, []taskcreate.Domain{restock}, ps...))
	wantResult(fx.t, "CreateTasks of run-1", res, "run-1", store.Outcome{Created: n + 1})
	fx.setStatus(acme, fx.onlyTask(acme, restock, "s1", fmt.Sprintf("v%03d", n), taskcreate.StatusOpen).ID, taskcreate.StatusInProgress)
	fx.put(second...)
	req := request(acme, "run-2", 0, []taskcreate.Domain{restock}, ps...)
	req.RetireStale = true
	return req
}

// wantRefused checks that err is the retirement budget's refusal with
// these numbers.
func wantRefused(t *testing.T, what string, err error, want taskcreate.RetireBudgetError) {
	t.Helper()
	var got *taskcreate.RetireBudgetError
	switch {
	case !errors.As(err, &got):
		t.Fatalf("%s: want a *RetireBudgetError, got %v", what, err)
	case !errors.Is(err, taskcreate.ErrRetireBudgetExceeded):
		t.Fatalf("%s: %v does not match ErrRetireBudgetExceeded", what, err)
	case *got != want:
		t.Fatalf("%s: want %+v, got %+v", what, want, *got)
	}
}

// A call that would retire more than its budget of the candidates' OPEN
// tasks writes nothing, and says how many; its dry run refuses the same.
func testRetireBudgetRefuses(t *testing.T, s suite) {
	fx := s.fixture(t)
	req := budgetFixture(fx, 40, 10) // 30 of 40 OPEN tasks would go
	before := fx.tasks(acme)
	want := taskcreate.RetireBudgetError{WouldRetire: 30, Open: 40, Budget: taskcreate.DefaultRetireBudget}
	for _, dry := range []bool{true, false} {
		req.DryRun = dry
		_, err := fx.service(fx.clock.tick()).CreateTasks(fx.ctx, req)
		wantRefused(t, fmt.Sprintf("CreateTasks (dry run %v)", dry), err, want)
		wantTasks(t, fmt.Sprintf("tasks after the refusal (dry run %v)", dry), before, fx.tasks(acme))
	}
	req.DryRun, req.MaxRetireFraction = false, floatPtr(0.75)
	res, _ := fx.create(req)
	wantResult(t, "CreateTasks with a budget of 0.75 for the call", res, "run-2", store.Outcome{Updated: 10, Unmatched: 31, Retired: 30})
}

// Exactly at the limit a call passes, one task more is refused; at most
// RetireGuardMinimum tasks may always go, whatever the budget.
func testRetireBudgetLimits(t *testing.T, s suite) {
	for _, c := range []struct {
		name           string
		open, loaded   int
		budget         float64
		refused        bool
		wantUnmatched  int
		wantRetirement int
	}{
		{"at the limit", 44, 22, 0.5, false, 23, 22},
		{"one over the limit", 44, 21, 0.5, true, 0, 23},
		{"the guard's minimum under a zero budget", 30, 10, 0, false, 21, 20},
		{"one over the guard's minimum", 30, 9, 0, true, 0, 21},
		{"budget 1 turns the guard off", 30, 1, 1, false, 30, 29},
	} {
		t.Run(c.name, func(t *testing.T) {
			fx := s.fixture(t)
			req := budgetFixture(fx, c.open, c.loaded)
			before := fx.tasks(acme)
			at := fx.clock.tick()
			res, err := fx.service(at, taskcreate.WithRetireBudget(c.budget)).CreateTasks(fx.ctx, req)
			if c.refused {
				wantRefused(t, "CreateTasks", err, taskcreate.RetireBudgetError{WouldRetire: c.wantRetirement, Open: c.open, Budget: c.budget})
				wantTasks(t, "tasks after the refusal", before, fx.tasks(acme))
				return
			}
			noError(t, err, "CreateTasks")
			wantResult(t, "CreateTasks", res, "run-2", store.Outcome{Updated: c.loaded, Unmatched: c.wantUnmatched, Retired: c.wantRetirement})
		})
	}
}

// A pinned snapshot date is read for every domain instead of the latest;
// a date without rows leaves every candidate unmatched.
func testSnapshotDateIsPinned(t *testing.T, s suite) {
	fx := s.fixture(t)
	v1 := vector(acme, restock, "s1", "v1", day(1), qty(3))
	fx.put(v1, vector(acme, restock, "s1", "v1", day(2), qty(7)), vector(acme, markdown, "s1", "v1", day(3)))
	req := request(acme, "run-1", 0, allDomains, position("s1", "v1"))
	req.SnapshotDate = day(1)
	first := fx.ids.peek()
	res, at := fx.create(req)
	wantResult(t, "CreateTasks pinned to day 1", res, "run-1", store.Outcome{Created: 1, Unmatched: 2})
	// Restock is the last of the three domains in key order.
	want := taskFrom(v1, sequenceID(first+2), "run-1", taskcreate.PriorityMedium, at)
	wantTasks(t, "tasks from day 1", []taskcreate.Task{want}, fx.tasks(acme))

	req.WorkflowRunID, req.SnapshotDate, req.RetireStale = "run-2", day(4), true
	res, at = fx.create(req)
	wantResult(t, "CreateTasks pinned to a day without rows", res, "run-2", store.Outcome{Unmatched: 3, Retired: 1})
	want.Status, want.WorkflowRunID, want.UpdatedAt = taskcreate.StatusDismissed, "run-2", at
	wantTasks(t, "the task after the empty day", []taskcreate.Task{want}, fx.tasks(acme))
}
