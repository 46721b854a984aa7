package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
	"github.com/google/uuid"
)

// waitLimit bounds every wait on another goroutine, so a store that hangs
// fails the case instead of the whole test binary.
const waitLimit = time.Minute

// Atomicity: a call commits everything or nothing.

// poisonedShop sorts after every other shop of the atomicity cases, so its
// write is the last of the call.
const poisonedShop = "s-z"

// prepareAtomicity leaves acme with open tasks the returned request would
// update, rows it would create tasks from (one beside a DONE task), and a
// single eligible candidate in poisonedShop: restock, the last domain.
func prepareAtomicity(fx *fixture) taskcreate.Request {
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
	return request(acme, "run-2", 0, allDomains,
		position(poisonedShop, "v1"), position("s-b", "v1"), position("s-a", "v2"), position("s-a", "v1"))
}

// wantUsableAfterFailure checks that a store that failed a call still
// serves the next one: the call of prepareAtomicity without poisonedShop.
func wantUsableAfterFailure(fx *fixture, req taskcreate.Request) {
	fx.t.Helper()
	req.Perimeter = slices.DeleteFunc(slices.Clone(req.Perimeter), func(p taskcreate.Pair) bool { return p.ShopID == poisonedShop })
	res, _ := fx.create(req)
	wantResult(fx.t, "CreateTasks without the failing shop, after the failure", res, req.WorkflowRunID,
		store.Outcome{Created: 2, Updated: 2, Unmatched: 5})
}

func testFailedWriteRollsBack(t *testing.T, s suite) {
	if s.features.FailTaskWrites == nil {
		t.Skip("Features.FailTaskWrites is nil: the adapter's test cannot inject a failing task write")
	}
	fx := s.fixture(t)
	req := prepareAtomicity(fx)
	before := fx.tasks(acme)
	s.features.FailTaskWrites(t, fx.store, poisonedShop)

	res, err := fx.service(fx.clock.tick()).CreateTasks(fx.ctx, req)
	if err == nil {
		t.Fatalf("CreateTasks with a failing write to shop %q: want an error, got nil and %+v", poisonedShop, res)
	}
	if res.SuccessCode != "" || res.Outcomes != nil || formatOutcome(outcomeOf(res)) != formatOutcome(store.Outcome{}) {
		t.Errorf("CreateTasks that failed: want a zero Result, got %+v", res)
	}
	wantTasks(t, "tasks after the failed call", before, fx.tasks(acme))
	wantUsableAfterFailure(fx, req)
}

func testCancelDuringWrite(t *testing.T, s suite) {
	if s.features.StallTaskWrites == nil {
		t.Skip("Features.StallTaskWrites is nil: the adapter's test cannot stall a task write")
	}
	fx := s.fixture(t)
	req := prepareAtomicity(fx)
	before := fx.tasks(acme)
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
	wantTasks(t, "tasks after the cancelled call", before, fx.tasks(acme))
	wantUsableAfterFailure(fx, req)
}

// cancelRounds is how many calls the cancel-anywhere case cancels.
const cancelRounds = 200

// testCancelAnywhere cancels calls at random points of their course, from
// before the first statement to after the commit, and checks that what
// each call reports is what the store holds: a success wrote all its
// tasks, an error none of them, and only ErrOutcomeUnknown may leave either.
func testCancelAnywhere(t *testing.T, s suite) {
	const shops, variants = 10, 10 // 100 pairs; in two domains, 200 candidates, all eligible
	fx := s.fixture(t)
	domains := []taskcreate.Domain{restock, markdown}
	var rows []taskcreate.ActionVector
	var all []taskcreate.Pair
	for i := range shops * variants {
		shop, variant := fmt.Sprintf("shop-%02d", i%shops), fmt.Sprintf("variant-%03d", i/shops)
		rows = append(rows, vector(acme, restock, shop, variant, day(1)), vector(acme, markdown, shop, variant, day(1)))
		all = append(all, position(shop, variant))
	}
	fx.put(rows...)

	// Calls over half the perimeter, uncancelled, set the time scale; with
	// commits delayed by half of it, a good share of the cancellations
	// land in a commit.
	timed := func(run string) time.Duration {
		start := time.Now()
		fx.create(request(acme, run, 0, domains, all[:len(all)/2]...))
		return time.Since(start)
	}
	took := timed("run-warm-up")
	if s.features.DelayCommits != nil {
		s.features.DelayCommits(t, fx.store, took/2)
		took = timed("run-warm-up-delayed")
	}

	rng := rand.New(rand.NewPCG(10, 10))
	var succeeded, failed, unknown, cancelledButCommitted int
	for round := range cancelRounds {
		run := fmt.Sprintf("run-cancel-%03d", round)
		// A random half of the perimeter, so calls both create and update.
		var ps []taskcreate.Pair
		for _, p := range all {
			if rng.IntN(2) == 0 {
				ps = append(ps, p)
			}
		}
		want := len(domains) * len(ps)
		at := fx.clock.tick()
		ctx, cancel := context.WithCancel(fx.ctx)
		timer := time.AfterFunc(time.Duration(rng.Float64()*1.2*float64(took)), cancel)
		res, err := fx.service(at).CreateTasks(ctx, request(acme, run, 0, domains, ps...))
		cancelledFirst := ctx.Err() != nil
		timer.Stop()
		cancel()

		owned := fx.list(taskcreate.TaskFilter{OrganizationID: acme, WorkflowRunID: run})
		createdHere := 0
		for _, task := range owned {
			if task.CreatedAt.Equal(stamp(at)) {
				createdHere++
			}
		}
		what := fmt.Sprintf("round %d (%d candidates)", round, want)
		switch {
		case err == nil:
			succeeded++
			if cancelledFirst {
				cancelledButCommitted++
			}
			wantEqual(t, what+": created+updated of a successful call", want, res.Created+res.Updated)
			wantEqual(t, what+": tasks the successful call owns", want, len(owned))
			wantEqual(t, what+": tasks the successful call created", res.Created, createdHere)
		case errors.Is(err, taskcreate.ErrOutcomeUnknown):
			unknown++
			if len(owned) != 0 && len(owned) != want {
				t.Fatalf("%s: a call whose outcome is unknown left %d of its %d tasks: a partial write", what, len(owned), want)
			}
		default:
			failed++
			wantErrorIs(t, err, context.Canceled, what+": a failed call")
			if len(owned) != 0 {
				t.Fatalf("%s: CreateTasks returned %v, but %d tasks carry its run (%d created by it)", what, err, len(owned), createdHere)
			}
		}
	}
	t.Logf("%d cancelled calls: %d succeeded (%d of them cancelled while committing), %d failed, %d with an unknown outcome (time scale %v, delayed commits: %v)",
		cancelRounds, succeeded, cancelledButCommitted, failed, unknown, took, s.features.DelayCommits != nil)
	if succeeded == 0 || failed == 0 {
		t.Fatalf("want calls cancelled both before and after their work was done, got %d successes and %d failures", succeeded, failed)
	}
	if s.features.DelayCommits != nil && cancelledButCommitted == 0 {
		t.Fatalf("no call was cancelled while committing, though commits were delayed by %v", took/2)
	}
	seen := map[taskKey]bool{}
	for _, task := range fx.list(taskcreate.TaskFilter{OrganizationID: acme, Statuses: []taskcreate.Status{taskcreate.StatusOpen}}) {
		if seen[keyOf(task)] {
			t.Fatalf("two open tasks for %s", describeTask(task))
		}
		seen[keyOf(task)] = true
	}
}

func testCancelledBeforeCall(t *testing.T, s suite) {
	fx := s.fixture(t)
	req := prepareAtomicity(fx)
	before := fx.tasks(acme)
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
		ProposedIDs: []uuid.UUID{sequenceID(0)},
	}
	if out, err := fx.store.MaterializeTasks(ctx, b); err == nil {
		t.Fatalf("MaterializeTasks with a cancelled context: want an error, got nil and %+v", out)
	}
	wantTasks(t, "tasks after the cancelled call", nil, fx.tasks(acme))
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
// caller's: they are visible inside it, and commit or roll back with it.
func testCallerTransaction(t *testing.T, s suite) {
	if s.features.WithTx == nil {
		t.Skip("Features.WithTx is nil: the adapter's test cannot bind a store to a caller's transaction")
	}
	fx := s.fixture(t)
	pool, ok := fx.store.(interface{ DB() *sql.DB })
	if !ok {
		t.Fatalf("Features.WithTx is set, but %T has no method DB() *sql.DB to begin a transaction on", fx.store)
	}
	fx.put(vector(acme, restock, "s1", "v1", day(1)), vector(acme, restock, "s1", "v2", day(1)), vector(acme, markdown, "s1", "v1", day(1)))
	req := request(acme, "run-1", 0, allDomains, position("s1", "v1"), position("s1", "v2"))
	for _, commit := range []bool{false, true} {
		what := fmt.Sprintf("in a caller's transaction (commit %v)", commit)
		tx, err := pool.DB().BeginTx(fx.ctx, nil)
		noError(t, err, "beginning the caller's transaction")
		bound := s.features.WithTx(fx.store, tx)
		svc := taskcreate.New(bound, taskcreate.WithClock(fx.clock.tick), taskcreate.WithIDSource(fx.ids.next))
		res, err := svc.CreateTasks(fx.ctx, req)
		noError(t, err, "CreateTasks "+what)
		wantResult(t, "CreateTasks "+what, res, "run-1", store.Outcome{Created: 3, Unmatched: 3})
		inside, err := bound.ListTasks(fx.ctx, taskcreate.TaskFilter{OrganizationID: acme})
		noError(t, err, "ListTasks "+what)
		wantEqual(t, "tasks seen inside the caller's transaction", 3, len(inside))
		end := tx.Rollback
		if commit {
			end = tx.Commit
		}
		noError(t, end(), "ending the caller's transaction")
		want := 0
		if commit {
			want = 3
		}
		wantEqual(t, "tasks after the caller's transaction ended "+what, want, len(fx.tasks(acme)))
	}
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
		ProposedIDs: []uuid.UUID{sequenceID(40), sequenceID(30), sequenceID(20), sequenceID(10)},
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

// Concurrency: overlapping calls leave one open task per key.

// concurrentCall is one call of the concurrency case and what came of it.
type concurrentCall struct {
	req taskcreate.Request
	at  time.Time // the call's clock reading, unique to it
	res taskcreate.Result
	err error
}

func testConcurrentCalls(t *testing.T, s suite) {
	const goroutines, callsEach, minConfidence = 8, 6, 0.5
	fx := s.fixture(t)
	orgs := []string{acme, globex}
	var shops, variants []string
	for i := range 5 {
		shops = append(shops, fmt.Sprintf("s%d", i))
	}
	for i := range 6 {
		variants = append(variants, fmt.Sprintf("v%d", i))
	}
	// Each key gets a fixed fate; two thirds are eligible.
	rows := map[taskKey]taskcreate.ActionVector{}
	var vectors []taskcreate.ActionVector
	for _, org := range orgs {
		for di, d := range taskcreate.Domains() {
			for si, shop := range shops {
				for vi, variant := range variants {
					var v taskcreate.ActionVector
					switch (si + 2*vi + di) % 6 {
					case 0, 1, 2:
						v = vector(org, d, shop, variant, day(1), qty(si+vi+1))
					case 3:
						v = vector(org, d, shop, variant, day(1), confidence(0.2))
					case 4:
						v = vector(org, d, shop, variant, day(1), qty(0), discount(0))
					default:
						continue
					}
					rows[taskKey{org, d, shop, variant}] = v
					vectors = append(vectors, v)
				}
			}
		}
	}
	fx.put(vectors...)

	// Calls are drawn up front from fixed seeds; they overlap, repeat runs
	// across goroutines, mix organizations and give pairs in any order.
	calls := make([][]*concurrentCall, goroutines)
	for g := range calls {
		for c := range callsEach {
			rng := rand.New(rand.NewPCG(uint64(g), uint64(c)))
			org := orgs[0]
			if g%4 == 3 {
				org = orgs[1]
			}
			run := "run-shared"
			if c%2 == 1 {
				run = fmt.Sprintf("run-g%d", g)
			}
			var ds []taskcreate.Domain
			for len(ds) == 0 {
				for _, d := range allDomains {
					if rng.IntN(3) > 0 {
						ds = append(ds, d)
					}
				}
			}
			var ps []taskcreate.Pair
			for _, shop := range shops {
				for _, variant := range variants {
					if rng.IntN(5) < 3 {
						ps = append(ps, position(shop, variant))
					}
				}
			}
			switch c % 3 {
			case 0:
				rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
			case 1:
				slices.Reverse(ps)
			}
			if len(ps) > 0 {
				ps = append(ps, ps[0]) // a duplicate
			}
			calls[g] = append(calls[g], &concurrentCall{
				req: request(org, run, minConfidence, ds, ps...),
				at:  fx.clock.tick(),
			})
		}
	}

	var wg sync.WaitGroup
	for _, mine := range calls {
		wg.Go(func() {
			for _, call := range mine {
				svc := fx.service(call.at, taskcreate.WithRetry(10, 5*time.Millisecond))
				call.res, call.err = svc.CreateTasks(fx.ctx, call.req)
			}
		})
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(waitLimit):
		t.Fatalf("%d goroutines of %d calls did not finish within %v: deadlock?", goroutines, callsEach, waitLimit)
	}

	// Every call succeeded with the counts its candidates' fates dictate.
	byStamp := map[time.Time]*concurrentCall{}
	covered := map[taskKey]bool{} // eligible keys some call asked for
	created := map[string]int{}   // per organization, summed over calls
	for g, mine := range calls {
		for c, call := range mine {
			if call.err != nil {
				t.Fatalf("goroutine %d, call %d: CreateTasks: %v", g, c, call.err)
			}
			byStamp[stamp(call.at)] = call
			var want store.Outcome
			eligible := 0
			for key := range candidateKeys(call.req) {
				switch v, ok := rows[key]; {
				case !ok:
					want.Unmatched++
				case *v.Confidence < minConfidence:
					want.Suppressed++
				case !recommends(v):
					want.Skipped++
				default:
					eligible++
					covered[key] = true
				}
			}
			got := outcomeOf(call.res)
			if got.Created+got.Updated != eligible {
				t.Errorf("goroutine %d, call %d: want created+updated = %d eligible candidates, got %s", g, c, eligible, formatOutcome(got))
			}
			want.Created, want.Updated = got.Created, got.Updated
			if msg := resultDiff(call.res, call.req.WorkflowRunID, want); msg != "" {
				t.Errorf("goroutine %d, call %d: %s", g, c, msg)
			}
			created[call.req.OrganizationID] += got.Created
		}
	}

	// One open task per eligible key asked for; each stamped consistently
	// by the call that created it and the call that last refreshed it.
	createdBy := map[*concurrentCall]int{}
	for _, org := range orgs {
		tasks := fx.tasks(org)
		seen := map[taskKey]bool{}
		for _, task := range tasks {
			key := keyOf(task)
			if seen[key] {
				t.Errorf("two open tasks for %s/%s/%s/%s", key.org, key.domain, key.shop, key.variant)
			}
			seen[key] = true
			creator, updater := byStamp[task.CreatedAt], byStamp[task.UpdatedAt]
			switch {
			case !covered[key]:
				t.Errorf("task for a key no call made eligible: %s", describeTask(task))
			case creator == nil || updater == nil:
				t.Errorf("task stamped with times of no call: %s", describeTask(task))
			case !candidateKeys(creator.req)[key] || !candidateKeys(updater.req)[key]:
				t.Errorf("task stamped by a call that did not ask for its key: %s", describeTask(task))
			default:
				createdBy[creator]++
				want := taskFrom(rows[key], task.ID, updater.req.WorkflowRunID, taskcreate.PriorityMedium, task.CreatedAt)
				want.UpdatedAt = task.UpdatedAt
				if d := taskDiff(want, task); len(d) > 0 {
					t.Errorf("task %s: %s", describeTask(task), strings.Join(d, "; "))
				}
			}
		}
		for key := range covered {
			if key.org == org && !seen[key] {
				t.Errorf("no open task for eligible key %s/%s/%s/%s", key.org, key.domain, key.shop, key.variant)
			}
		}
		if created[org] != len(tasks) {
			t.Errorf("%s: calls report %d tasks created in all, want the %d tasks there are", org, created[org], len(tasks))
		}
	}
	for g, mine := range calls {
		for c, call := range mine {
			if call.res.Created != createdBy[call] {
				t.Errorf("goroutine %d, call %d reports %d tasks created, %d tasks carry its created_at", g, c, call.res.Created, createdBy[call])
			}
		}
	}
	t.Logf("%d concurrent calls in %d goroutines over %d eligible keys", goroutines*callsEach, goroutines, len(covered))
}

// candidateKeys returns the task keys of the unique candidates of req.
func candidateKeys(req taskcreate.Request) map[taskKey]bool {
	keys := map[taskKey]bool{}
	for _, d := range req.Domains {
		for _, p := range req.Perimeter {
			keys[taskKey{req.OrganizationID, d, p.ShopID, p.VariantID}] = true
		}
	}
	return keys
}

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
		// Rows for a known subset of the pairs: 3/8 in restock, 1/5 in
		// markdown, 1/20 in rebalance.
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
	}
	fx.put(rows...)
	slices.Reverse(perimeter)

	res, _ := fx.create(request(acme, "run-1", 0.5, allDomains, perimeter...))
	wantResult(t, "CreateTasks over 51,000 candidates", res, "run-1", want)
	wantEqual(t, "tasks of run-1", want.Created, len(fx.list(taskcreate.TaskFilter{OrganizationID: acme, WorkflowRunID: "run-1"})))

	res, _ = fx.create(request(acme, "run-2", 0.5, allDomains, perimeter...))
	want.Created, want.Updated = 0, want.Created
	wantResult(t, "CreateTasks over 51,000 candidates again", res, "run-2", want)
	wantEqual(t, "tasks of run-2", want.Updated, len(fx.list(taskcreate.TaskFilter{OrganizationID: acme, WorkflowRunID: "run-2"})))
	wantEqual(t, "tasks of acme", want.Updated, len(fx.tasks(acme)))
	t.Logf("%d candidates, %d action vectors", 3*shops*variants, len(rows))
}
