package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// Atomicity under cancellation: a cancelled call commits everything or
// nothing, and says which.

func testCancelDuringWrite(t *testing.T, s suite) {
	requireFeature(t, s.features.StallTaskWrites != nil, "StallTaskWrites", "stall a task write")
	fx := s.fixture(t)
	req, before := prepareAtomicity(fx)
	reached, release := s.features.StallTaskWrites(t, fx.store, poisonedShop)

	ctx, cancel := context.WithCancel(fx.ctx)
	defer cancel()
	svc := fx.service(fx.clock.tick())
	done := make(chan error, 1)
	go func() {
		_, err := svc.CreateTasks(ctx, req)
		done <- err
	}()
	select {
	case <-reached:
	case err := <-done:
		release()
		t.Fatalf("CreateTasks returned (error %v) before its write to shop %q stalled", err, poisonedShop)
	case <-time.After(waitLimit):
		release()
		t.Fatalf("CreateTasks did not reach the stalled write to shop %q within %v", poisonedShop, waitLimit)
	}
	cancel()
	// Let the cancellation reach the blocked statement before it goes on,
	// so every run checks a write interrupted mid-statement.
	time.Sleep(20 * time.Millisecond)
	release()
	select {
	case err := <-done:
		wantErrorIs(t, err, context.Canceled, "CreateTasks cancelled during a write")
	case <-time.After(waitLimit):
		t.Fatalf("CreateTasks did not return within %v of being cancelled and released", waitLimit)
	}
	wantRolledBack(fx, "the cancelled call", req, before)
}

// cancelRounds is how many calls the cancel-anywhere case cancels.
const cancelRounds = 200

// cancelDomains are the domains of every call of the cancel-anywhere case.
var cancelDomains = []taskcreate.Domain{restock, markdown}

// cancelCase is the cancel-anywhere case: its perimeter, the time scale of
// its calls, and how they ended.
type cancelCase struct {
	fx   *fixture
	all  []taskcreate.Pair // every pair, with an eligible row in each of cancelDomains
	took time.Duration     // how long an uncancelled call over half of all takes

	succeeded, failed, unknown, cancelledButCommitted int
}

// testCancelAnywhere cancels calls at random points of their course, from
// before the first statement to after the commit, and checks that what
// each call reports is what the store holds: a success wrote all its
// tasks, an error none of them, and only ErrOutcomeUnknown may leave either.
func testCancelAnywhere(t *testing.T, s suite) {
	c := &cancelCase{fx: s.fixture(t)}
	c.putRows()
	c.setTimeScale(s.features.DelayCommits)
	rng := rand.New(rand.NewPCG(10, 10))
	for round := range cancelRounds {
		c.round(rng, round)
	}
	t.Logf("%d cancelled calls: %d succeeded (%d of them cancelled while committing), %d failed, %d with an unknown outcome (time scale %v, delayed commits: %v)",
		cancelRounds, c.succeeded, c.cancelledButCommitted, c.failed, c.unknown, c.took, s.features.DelayCommits != nil)
	if c.succeeded == 0 || c.failed == 0 {
		t.Fatalf("want calls cancelled both before and after their work was done, got %d successes and %d failures", c.succeeded, c.failed)
	}
	if s.features.DelayCommits != nil && c.cancelledButCommitted == 0 {
		t.Fatalf("no call was cancelled while committing, though commits were delayed by %v", c.took/2)
	}
	seen := map[taskKey]bool{}
	for _, task := range c.fx.tasksIn(acme, taskcreate.StatusOpen) {
		if seen[keyOf(task)] {
			t.Fatalf("two open tasks for %s", describeTask(task))
		}
		seen[keyOf(task)] = true
	}
}

// putRows writes 100 pairs, with an eligible row in both domains: 200
// candidates.
func (c *cancelCase) putRows() {
	const shops, variants = 10, 10
	var rows []taskcreate.ActionVector
	for i := range shops * variants {
		shop, variant := fmt.Sprintf("shop-%02d", i%shops), fmt.Sprintf("variant-%03d", i/shops)
		rows = append(rows, vector(acme, restock, shop, variant, day(1)), vector(acme, markdown, shop, variant, day(1)))
		c.all = append(c.all, position(shop, variant))
	}
	c.fx.put(rows...)
}

// setTimeScale times uncancelled calls over half the perimeter; with
// commits delayed by half of that (when delayCommits is provided), a good
// share of the cancellations land in a commit.
func (c *cancelCase) setTimeScale(delayCommits func(*testing.T, Store, time.Duration)) {
	timed := func(run string) time.Duration {
		start := time.Now()
		c.fx.create(request(acme, run, 0, cancelDomains, c.all[:len(c.all)/2]...))
		return time.Since(start)
	}
	c.took = timed("run-warm-up")
	if delayCommits != nil {
		delayCommits(c.fx.t, c.fx.store, c.took/2)
		c.took = timed("run-warm-up-delayed")
	}
}

// round makes a call over a random half of the perimeter, so calls both
// create and update, cancels it at a random time, and checks that the
// store holds what the call reports.
func (c *cancelCase) round(rng *rand.Rand, round int) {
	t, fx := c.fx.t, c.fx
	run := fmt.Sprintf("run-cancel-%03d", round)
	var ps []taskcreate.Pair
	for _, p := range c.all {
		if rng.IntN(2) == 0 {
			ps = append(ps, p)
		}
	}
	want := len(cancelDomains) * len(ps)
	at := fx.clock.tick()
	ctx, cancel := context.WithCancel(fx.ctx)
	timer := time.AfterFunc(time.Duration(rng.Float64()*1.2*float64(c.took)), cancel)
	res, err := fx.service(at).CreateTasks(ctx, request(acme, run, 0, cancelDomains, ps...))
	cancelledFirst := ctx.Err() != nil
	timer.Stop()
	cancel()

	owned := fx.tasksOfRun(acme, run)
	createdHere := 0
	for _, task := range owned {
		if task.CreatedAt.Equal(stamp(at)) {
			createdHere++
		}
	}
	what := fmt.Sprintf("round %d (%d candidates)", round, want)
	switch {
	case err == nil:
		c.succeeded++
		if cancelledFirst {
			c.cancelledButCommitted++
		}
		wantEqual(t, what+": created+updated of a successful call", want, res.Created+res.Updated)
		wantEqual(t, what+": tasks the successful call owns", want, len(owned))
		wantEqual(t, what+": tasks the successful call created", res.Created, createdHere)
	case errors.Is(err, taskcreate.ErrOutcomeUnknown):
		c.unknown++
		if len(owned) != 0 && len(owned) != want {
			t.Fatalf("%s: a call whose outcome is unknown left %d of its %d tasks: a partial write", what, len(owned), want)
		}
	default:
		c.failed++
		wantErrorIs(t, err, context.Canceled, what+": a failed call")
		if len(owned) != 0 {
			t.Fatalf("%s: CreateTasks returned %v, but %d tasks carry its run (%d created by it)", what, err, len(owned), createdHere)
		}
	}
}

func testCancelledBeforeCall(t *testing.T, s suite) {
	fx := s.fixture(t)
	req, before := prepareAtomicity(fx)
	ctx, cancel := context.WithCancel(fx.ctx)
	cancel()
	_, err := fx.service(fx.clock.tick()).CreateTasks(ctx, req)
	wantErrorIs(t, err, context.Canceled, "CreateTasks with a cancelled context")
	wantTasks(t, "tasks after the cancelled call", before, fx.tasks(acme))
}

func testCancelledContextAtPort(t *testing.T, s suite) {
	fx := s.fixture(t)
	fx.put(vector(acme, restock, "s1", "v1", day(1)))
	ctx, cancel := context.WithCancel(fx.ctx)
	cancel()
	// The service checks ctx before calling the store; call the port
	// directly to see that the store itself writes nothing.
	b := &store.Batch{
		OrganizationID: acme, WorkflowRunID: "run-1", Priority: taskcreate.PriorityMedium, Now: stamp(fx.clock.tick()),
		Domains: []taskcreate.Domain{restock}, Pairs: []taskcreate.Pair{position("s1", "v1")},
		ProposedIDs: store.IDList(sequenceID(0)),
	}
	if out, err := fx.store.MaterializeTasks(ctx, b); err == nil {
		t.Fatalf("MaterializeTasks with a cancelled context: want an error, got nil and %+v", out)
	}
	wantTasks(t, "tasks after the cancelled call", nil, fx.tasks(acme))
}
