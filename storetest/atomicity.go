package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// Atomicity: a call commits everything or nothing.

// poisonedShop sorts after every other shop of the atomicity cases, so its
// write is the last of the call.
const poisonedShop = "s-z"

// prepareAtomicity leaves acme with open tasks the returned request would
// update, rows it would create tasks from (one beside a DONE task), and a
// single eligible candidate in poisonedShop: restock, the last domain. It
// also returns acme's tasks before that request.
func prepareAtomicity(fx *fixture) (taskcreate.Request, []taskcreate.Task) {
	fx.t.Helper()
	fx.put(
		vector(acme, restock, "s-a", "v1", day(1)),
		vector(acme, restock, "s-b", "v1", day(1)),
		vector(acme, markdown, "s-a", "v1", day(1)),
	)
	res, _ := fx.create(request(acme, "run-1", 0, allDomains, position("s-a", "v1"), position("s-b", "v1")))
	wantResult(fx.t, "CreateTasks of run-1", res, "run-1", store.Outcome{Created: 3, Unmatched: 3})
	fx.setStatus(acme, fx.onlyTask(acme, markdown, "s-a", "v1", taskcreate.StatusOpen).ID, taskcreate.StatusDone)
	fx.put(
		vector(acme, restock, "s-a", "v1", day(2), qty(8)),
		vector(acme, restock, "s-a", "v2", day(2)),
		vector(acme, restock, "s-b", "v1", day(2), qty(9)),
		vector(acme, markdown, "s-a", "v1", day(2)),
		vector(acme, restock, poisonedShop, "v1", day(2)),
	)
	req := request(acme, "run-2", 0, allDomains,
		position(poisonedShop, "v1"), position("s-b", "v1"), position("s-a", "v2"), position("s-a", "v1"))
	return req, fx.tasks(acme)
}

// wantRolledBack checks that the failed call what names left acme with the
// tasks before it, and that the store still serves the next call: req of
// prepareAtomicity without poisonedShop.
func wantRolledBack(fx *fixture, what string, req taskcreate.Request, before []taskcreate.Task) {
	fx.t.Helper()
	wantTasks(fx.t, "tasks after "+what, before, fx.tasks(acme))
	req.Perimeter = slices.DeleteFunc(slices.Clone(req.Perimeter), func(p taskcreate.Pair) bool { return p.ShopID == poisonedShop })
	res, _ := fx.create(req)
	wantResult(fx.t, "CreateTasks without the failing shop, after the failure", res, req.WorkflowRunID,
		store.Outcome{Created: 2, Updated: 2, Unmatched: 5})
}

func testFailedWriteRollsBack(t *testing.T, s suite) {
	requireFeature(t, s.features.FailTaskWrites != nil, "FailTaskWrites", "inject a failing task write")
	fx := s.fixture(t)
	req, before := prepareAtomicity(fx)
	s.features.FailTaskWrites(t, fx.store, poisonedShop)

	res, err := fx.service(fx.clock.tick()).CreateTasks(fx.ctx, req)
	if err == nil {
		t.Fatalf("CreateTasks with a failing write to shop %q: want an error, got nil and %+v", poisonedShop, res)
	}
	if res.SuccessCode != "" || res.Outcomes != nil || formatOutcome(outcomeOf(res)) != formatOutcome(store.Outcome{}) {
		t.Errorf("CreateTasks that failed: want a zero Result, got %+v", res)
	}
	wantRolledBack(fx, "the failed call", req, before)
}

func testInvalidRequestWritesNothing(t *testing.T, s suite) {
	fx := s.fixture(t)
	fx.put(vector(acme, restock, "s1", "v1", day(1)), vector(acme, restock, "s1", "v2", day(1)))
	valid := request(acme, "run-1", 0, []taskcreate.Domain{restock}, position("s1", "v1"), position("s1", "v2"))
	cases := []struct {
		name string
		edit func(*taskcreate.Request)
	}{
		{"empty organization", func(r *taskcreate.Request) { r.OrganizationID = " " }},
		{"control character in run", func(r *taskcreate.Request) { r.WorkflowRunID = "run\n1" }},
		{"organization over 255 bytes", func(r *taskcreate.Request) { r.OrganizationID = strings.Repeat("a", 256) }},
		{"no domains", func(r *taskcreate.Request) { r.Domains = nil }},
		{"unknown domain", func(r *taskcreate.Request) { r.Domains = append(r.Domains, "clearance") }},
		{"minConfidence above 1", func(r *taskcreate.Request) { r.MinConfidence = 1.5 }},
		{"minConfidence below 0", func(r *taskcreate.Request) { r.MinConfidence = -0.1 }},
		{"minConfidence NaN", func(r *taskcreate.Request) { r.MinConfidence = math.NaN() }},
		{"empty shop in the last pair", func(r *taskcreate.Request) { r.Perimeter = append(r.Perimeter, position("", "v1")) }},
	}
	for _, c := range cases {
		req := valid
		req.Domains = slices.Clone(valid.Domains)
		req.Perimeter = slices.Clone(valid.Perimeter)
		c.edit(&req)
		_, err := fx.service(fx.clock.tick()).CreateTasks(fx.ctx, req)
		wantErrorIs(t, err, taskcreate.ErrInvalidRequest, "CreateTasks with "+c.name)
	}
	wantTasks(t, "tasks after invalid requests", nil, fx.tasks(acme))
	res, _ := fx.create(valid)
	wantResult(t, "the valid request", res, "run-1", store.Outcome{Created: 2})
}

// testCallerTransaction creates tasks inside a transaction of the
// caller's, of every kind the store runs in: they are visible inside it,
// and commit or roll back with it.
func testCallerTransaction(t *testing.T, s suite) {
	kinds := maps.Clone(s.features.CallerTxs)
	if s.features.WithTx != nil {
		if kinds == nil {
			kinds = map[string]BeginTx{}
		}
		kinds["sql.Tx"] = beginSQLTx(s.features.WithTx)
	}
	requireFeature(t, len(kinds) > 0, "WithTx", "bind a store to a caller's transaction")
	for _, name := range slices.Sorted(maps.Keys(kinds)) {
		t.Run(name, func(t *testing.T) {
			fx := s.fixture(t)
			fx.put(vector(acme, restock, "s1", "v1", day(1)), vector(acme, restock, "s1", "v2", day(1)), vector(acme, markdown, "s1", "v1", day(1)))
			req := request(acme, "run-1", 0, allDomains, position("s1", "v1"), position("s1", "v2"))
			for _, commit := range []bool{false, true} {
				createInCallerTx(fx, kinds[name], req, commit)
				want := 0
				if commit {
					want = 3
				}
				wantEqual(t, fmt.Sprintf("tasks after the caller's transaction ended (commit %v)", commit), want, len(fx.tasks(acme)))
			}
		})
	}
}

// beginSQLTx begins a *sql.Tx on the pool a store returns from DB() and
// binds the store to it with withTx.
func beginSQLTx(withTx func(Store, *sql.Tx) Store) BeginTx {
	return func(ctx context.Context, s Store) (Store, func(bool) error, error) {
		pool, ok := s.(interface{ DB() *sql.DB })
		if !ok {
			return nil, nil, fmt.Errorf("Features.WithTx is set, but %T has no method DB() *sql.DB to begin a transaction on", s)
		}
		tx, err := pool.DB().BeginTx(ctx, nil)
		if err != nil {
			return nil, nil, err
		}
		end := func(commit bool) error {
			if commit {
				return tx.Commit()
			}
			return tx.Rollback()
		}
		return withTx(s, tx), end, nil
	}
}

// createInCallerTx makes the call req, whose three candidates are all
// eligible, on fx's store bound by begin to a transaction of the caller's,
// sees its tasks inside the transaction, then commits or rolls it back.
func createInCallerTx(fx *fixture, begin BeginTx, req taskcreate.Request, commit bool) {
	t := fx.t
	t.Helper()
	what := fmt.Sprintf("in a caller's transaction (commit %v)", commit)
	bound, end, err := begin(fx.ctx, fx.store)
	noError(t, err, "beginning the caller's transaction")
	ended := false
	defer func() {
		if !ended { // a check failed: roll back, so the connection goes back to its pool
			_ = end(false)
		}
	}()
	svc := taskcreate.New(bound, taskcreate.WithClock(fx.clock.tick), taskcreate.WithIDSource(fx.ids.next))
	res, err := svc.CreateTasks(fx.ctx, req)
	noError(t, err, "CreateTasks "+what)
	wantResult(t, "CreateTasks "+what, res, req.WorkflowRunID, store.Outcome{Created: 3, Unmatched: 3})
	inside, err := bound.ListTasks(fx.ctx, taskcreate.TaskFilter{OrganizationID: acme})
	noError(t, err, "ListTasks "+what)
	wantEqual(t, "tasks seen inside the caller's transaction", 3, len(inside))
	ended = true
	noError(t, end(commit), "ending the caller's transaction")
}
