package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// Concurrency: overlapping calls leave one open task per key.

// waitLimit bounds every wait on another goroutine, so a store that hangs
// fails the case instead of the whole test binary.
const waitLimit = time.Minute

// waitGroup waits for wg and stops the test if that takes longer than
// limit; what names the goroutines wg waits for.
func waitGroup(t *testing.T, wg *sync.WaitGroup, limit time.Duration, what string) {
	t.Helper()
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(limit):
		t.Fatalf("%s did not finish within %v: deadlock?", what, limit)
	}
}

// concurrentMinConfidence is the threshold of every call of the
// concurrency case.
const concurrentMinConfidence = 0.5

// concurrentOrgs are the organizations of the concurrency case.
var concurrentOrgs = []string{acme, globex}

// concurrentCall is one call of the concurrency case and what came of it.
type concurrentCall struct {
	req taskcreate.Request
	at  time.Time // the call's clock reading, unique to it
	res taskcreate.Result
	err error
}

// concurrencyCase is the data of the concurrency case and its calls.
type concurrencyCase struct {
	fx              *fixture
	shops, variants []string
	rows            map[taskKey]taskcreate.ActionVector // the row of each key that has one
	calls           [][]*concurrentCall                 // by goroutine

	byStamp map[time.Time]*concurrentCall // each call by its clock reading
	covered map[taskKey]bool              // eligible keys some call asked for
	created map[string]int                // tasks created per organization, summed over calls
}

func testConcurrentCalls(t *testing.T, s suite) {
	const goroutines, callsEach = 8, 6
	c := &concurrencyCase{fx: s.fixture(t), shops: numbered("s%d", 5), variants: numbered("v%d", 6)}
	c.putRows()
	c.drawCalls(goroutines, callsEach)
	var wg sync.WaitGroup
	for _, mine := range c.calls {
		wg.Go(func() {
			for _, call := range mine {
				svc := c.fx.service(call.at, taskcreate.WithRetry(10, 5*time.Millisecond))
				call.res, call.err = svc.CreateTasks(c.fx.ctx, call.req)
			}
		})
	}
	waitGroup(t, &wg, waitLimit, fmt.Sprintf("%d goroutines of %d calls", goroutines, callsEach))
	c.checkResults()
	c.checkTasks()
	t.Logf("%d concurrent calls in %d goroutines over %d eligible keys", goroutines*callsEach, goroutines, len(c.covered))
}

// numbered returns n names made by format from 0 to n-1.
func numbered(format string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf(format, i)
	}
	return names
}

// putRows gives each key a fixed fate, two thirds of them eligible, and
// writes the rows.
func (c *concurrencyCase) putRows() {
	c.rows = map[taskKey]taskcreate.ActionVector{}
	var vectors []taskcreate.ActionVector
	for _, org := range concurrentOrgs {
		for di, d := range taskcreate.Domains() {
			for si, shop := range c.shops {
				for vi, variant := range c.variants {
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
					c.rows[taskKey{org, d, shop, variant}] = v
					vectors = append(vectors, v)
				}
			}
		}
	}
	c.fx.put(vectors...)
}

// drawCalls draws every call up front from fixed seeds.
func (c *concurrencyCase) drawCalls(goroutines, callsEach int) {
	c.calls = make([][]*concurrentCall, goroutines)
	for g := range c.calls {
		for n := range callsEach {
			c.calls[g] = append(c.calls[g], c.drawCall(g, n))
		}
	}
}

// drawCall draws call n of goroutine g: calls overlap, repeat runs across
// goroutines, mix organizations and give pairs in any order.
func (c *concurrencyCase) drawCall(g, n int) *concurrentCall {
	rng := rand.New(rand.NewPCG(uint64(g), uint64(n)))
	org := concurrentOrgs[0]
	if g%4 == 3 {
		org = concurrentOrgs[1]
	}
	run := "run-shared"
	if n%2 == 1 {
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
	for _, shop := range c.shops {
		for _, variant := range c.variants {
			if rng.IntN(5) < 3 {
				ps = append(ps, position(shop, variant))
			}
		}
	}
	switch n % 3 {
	case 0:
		rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	case 1:
		slices.Reverse(ps)
	}
	if len(ps) > 0 {
		ps = append(ps, ps[0]) // a duplicate
	}
	return &concurrentCall{req: request(org, run, concurrentMinConfidence, ds, ps...), at: c.fx.clock.tick()}
}

// checkResults checks that every call succeeded with the counts its
// candidates' fates dictate.
func (c *concurrencyCase) checkResults() {
	t := c.fx.t
	c.byStamp, c.covered, c.created = map[time.Time]*concurrentCall{}, map[taskKey]bool{}, map[string]int{}
	for g, mine := range c.calls {
		for n, call := range mine {
			if call.err != nil {
				t.Fatalf("goroutine %d, call %d: CreateTasks: %v", g, n, call.err)
			}
			c.byStamp[stamp(call.at)] = call
			want, eligible := c.expect(call.req)
			got := outcomeOf(call.res)
			if got.Created+got.Updated != eligible {
				t.Errorf("goroutine %d, call %d: want created+updated = %d eligible candidates, got %s", g, n, eligible, formatOutcome(got))
			}
			want.Created, want.Updated = got.Created, got.Updated
			if msg := resultDiff(call.res, call.req.WorkflowRunID, want); msg != "" {
				t.Errorf("goroutine %d, call %d: %s", g, n, msg)
			}
			c.created[call.req.OrganizationID] += got.Created
		}
	}
}

// expect returns the counts of the candidates of req that are not
// eligible, and how many are, marking them covered.
func (c *concurrencyCase) expect(req taskcreate.Request) (want store.Outcome, eligible int) {
	for key := range candidateKeys(req) {
		switch v, ok := c.rows[key]; {
		case !ok:
			want.Unmatched++
		case *v.Confidence < concurrentMinConfidence:
			want.Suppressed++
		case !recommends(v):
			want.Skipped++
		default:
			eligible++
			c.covered[key] = true
		}
	}
	return want, eligible
}

// checkTasks checks that there is one open task per eligible key asked
// for, each stamped consistently by the call that created it and the call
// that last refreshed it.
func (c *concurrencyCase) checkTasks() {
	t := c.fx.t
	createdBy := map[*concurrentCall]int{}
	for _, org := range concurrentOrgs {
		tasks := c.fx.tasks(org)
		seen := map[taskKey]bool{}
		for _, task := range tasks {
			key := keyOf(task)
			if seen[key] {
				t.Errorf("two open tasks for %s/%s/%s/%s", key.org, key.domain, key.shop, key.variant)
			}
			seen[key] = true
			if creator := c.checkStamps(task); creator != nil {
				createdBy[creator]++
			}
		}
		for key := range c.covered {
			if key.org == org && !seen[key] {
				t.Errorf("no open task for eligible key %s/%s/%s/%s", key.org, key.domain, key.shop, key.variant)
			}
		}
		if c.created[org] != len(tasks) {
			t.Errorf("%s: calls report %d tasks created in all, want the %d tasks there are", org, c.created[org], len(tasks))
		}
	}
	for g, mine := range c.calls {
		for n, call := range mine {
			if call.res.Created != createdBy[call] {
				t.Errorf("goroutine %d, call %d reports %d tasks created, %d tasks carry its created_at", g, n, call.res.Created, createdBy[call])
			}
		}
	}
}

// checkStamps checks that task was created and last refreshed by calls
// that asked for its key, and is what the last of them made of its row. It
// returns the call that created task, or nil if there is none.
func (c *concurrencyCase) checkStamps(task taskcreate.Task) *concurrentCall {
	t := c.fx.t
	key := keyOf(task)
	creator, updater := c.byStamp[task.CreatedAt], c.byStamp[task.UpdatedAt]
	switch {
	case !c.covered[key]:
		t.Errorf("task for a key no call made eligible: %s", describeTask(task))
	case creator == nil || updater == nil:
		t.Errorf("task stamped with times of no call: %s", describeTask(task))
	case !candidateKeys(creator.req)[key] || !candidateKeys(updater.req)[key]:
		t.Errorf("task stamped by a call that did not ask for its key: %s", describeTask(task))
	default:
		want := taskFrom(c.rows[key], task.ID, updater.req.WorkflowRunID, taskcreate.PriorityMedium, task.CreatedAt)
		want.UpdatedAt = task.UpdatedAt
		if d := taskDiff(want, task); len(d) > 0 {
			t.Errorf("task %s: %s", describeTask(task), strings.Join(d, "; "))
		}
		return creator
	}
	return nil
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
