package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/actionvector/tasks/taskcreate"
	"github.com/anishathalye/porcupine"
	"github.com/google/uuid"
)

// Linearizability: concurrent creates, sweeps, status changes and reads
// behave, key by key, as if each took effect at one instant between its
// call and its return (the model is in linearizability_model.go).

const (
	linearizabilityClients = 5
	// linearizabilityOpsEach bounds the run to a few seconds on a
	// distributed engine under the race detector.
	linearizabilityOpsEach = 40
	// linearizabilitySeed fixes every client's choices; client c draws
	// from PCG(linearizabilitySeed, c). Interleavings still vary.
	linearizabilitySeed         = 20250602
	linearizabilityCheckTimeout = 30 * time.Second
)

var (
	linearizabilityRuns = []string{"run-a", "run-b", "run-c"}
	// 0.4 is the low-confidence keys' own confidence (kept) and 0.6
	// suppresses them, so their tasks get retired.
	linearizabilityMinConfidences = []float64{0, 0.4, 0.6}
)

// linearizabilityWorld is the case's fixed dataset: 2 domains x 15 pairs,
// each key with a vector that makes it eligible at high or at low
// confidence, skipped, or unmatched. Only the 10 low-confidence keys can
// be retired, too few for the retirement budget to refuse a call.
type linearizabilityWorld struct {
	domains []taskcreate.Domain // ascending
	pairs   []taskcreate.Pair   // in key order
	keys    []taskKey
	latest  map[taskKey]*taskcreate.ActionVector // nil: unmatched
	rows    []taskcreate.ActionVector
}

func newLinearizabilityWorld() *linearizabilityWorld {
	w := &linearizabilityWorld{domains: []taskcreate.Domain{markdown, restock}, latest: map[taskKey]*taskcreate.ActionVector{}}
	for _, shop := range []string{"s1", "s2", "s3"} {
		for v := 1; v <= 5; v++ {
			w.pairs = append(w.pairs, position(shop, fmt.Sprintf("v%d", v)))
		}
	}
	for di, d := range w.domains {
		for pi, p := range w.pairs {
			key := taskKey{org: acme, domain: d, shop: p.ShopID, variant: p.VariantID}
			w.keys = append(w.keys, key)
			var v taskcreate.ActionVector
			switch (pi + 3*di) % 6 {
			case 0, 1:
				v = vector(acme, d, p.ShopID, p.VariantID, day(2), confidence(0.9))
			case 2, 3:
				v = vector(acme, d, p.ShopID, p.VariantID, day(2), confidence(0.4))
			case 4:
				v = vector(acme, d, p.ShopID, p.VariantID, day(2), noQty, noDiscount)
			default: // a row of an older snapshot only: unmatched
				w.rows = append(w.rows, vector(acme, d, p.ShopID, p.VariantID, day(1)))
				w.latest[key] = nil
				continue
			}
			w.rows = append(w.rows, v)
			w.latest[key] = &v
		}
	}
	return w
}

// linearizabilityRun is what the clients of one run share.
type linearizabilityRun struct {
	t     *testing.T
	fx    *fixture
	world *linearizabilityWorld
	ctx   context.Context
	start time.Time

	mu      sync.Mutex
	seen    []seenTask // tasks some create named, for status changes
	ops     []porcupine.Operation
	kinds   map[opKind]int
	unknown []int // indices in ops of calls whose outcome is unknown
	failed  int
	answers struct{ created, updated, retired, refused int } // to show what the run exercised
}

type seenTask struct {
	id  uuid.UUID
	key taskKey
}

// now reads the monotonic clock of the run.
func (r *linearizabilityRun) now() int64 { return time.Since(r.start).Nanoseconds() }

func testLinearizability(t *testing.T, s suite) {
	fx := s.fixture(t)
	w := newLinearizabilityWorld()
	fx.put(w.rows...)
	ctx, cancel := context.WithTimeout(fx.ctx, waitLimit)
	defer cancel()
	r := &linearizabilityRun{t: t, fx: fx, world: w, ctx: ctx, start: time.Now(), kinds: map[opKind]int{}}

	var wg sync.WaitGroup
	for c := range linearizabilityClients {
		wg.Go(func() { r.client(c) })
	}
	waitGroup(t, &wg, waitLimit+10*time.Second, fmt.Sprintf("%d clients of %d operations", linearizabilityClients, linearizabilityOpsEach))
	took := time.Since(r.start)

	// A call whose outcome is unknown may take effect at any time after
	// it began, or never: it stays pending until after every other return.
	var end int64
	for _, op := range r.ops {
		end = max(end, op.Return)
	}
	for _, i := range r.unknown {
		r.ops[i].Return = end + 1
	}

	model := linearizabilityModel()
	checkStart := time.Now()
	result, info := porcupine.CheckOperationsVerbose(model, r.ops, linearizabilityCheckTimeout)
	checked := time.Since(checkStart)
	histories := len(model.Partition(r.ops))
	switch result {
	case porcupine.Ok:
	case porcupine.Illegal:
		var left string
		if r.failed > 0 {
			left = fmt.Sprintf(" (without the %d failed calls, taken to have written nothing)", r.failed)
		}
		t.Errorf("the history of %d operations%s is not linearizable key by key (seed %d); visualization: %s",
			len(r.ops), left, linearizabilitySeed, writeVisualization(t, model, info))
	default:
		t.Errorf("linearizability check gave %s: no answer within %v for %d operations (seed %d); visualization: %s",
			result, linearizabilityCheckTimeout, len(r.ops), linearizabilitySeed, writeVisualization(t, model, info))
	}
	t.Logf("linearizability: %d clients, %d operations (%d CreateTasks, %d SweepRun, %d SetTaskStatus, %d ListTasks), "+
		"%d keys, %d histories checked (%s), seed %d, %d with an unknown outcome, %d failed; "+
		"%d created, %d updated, %d retired, %d reopenings refused; run %v, check %v",
		linearizabilityClients, len(r.ops), r.kinds[opCreate], r.kinds[opSweep], r.kinds[opSetStatus], r.kinds[opRead],
		len(w.keys), histories, result, linearizabilitySeed, len(r.unknown), r.failed,
		r.answers.created, r.answers.updated, r.answers.retired, r.answers.refused,
		took.Round(time.Millisecond), checked.Round(time.Millisecond))
}

// writeVisualization writes porcupine's view of the history to a file
// that outlives the test, and returns its path.
func writeVisualization(t *testing.T, model porcupine.Model, info porcupine.LinearizationInfo) string {
	t.Helper()
	f, err := os.CreateTemp(os.TempDir(), "linearizability-*.html")
	if err != nil {
		t.Logf("creating the visualization file: %v", err)
		return "(none)"
	}
	path := f.Name()
	f.Close()
	if err := porcupine.VisualizePath(model, info, path); err != nil {
		t.Logf("writing the visualization to %s: %v", path, err)
	}
	return path
}

// client runs one client's operations, one after the other.
func (r *linearizabilityRun) client(c int) {
	rng := rand.New(rand.NewPCG(linearizabilitySeed, uint64(c)))
	for n := range linearizabilityOpsEach {
		switch k := rng.IntN(20); {
		case k < 9:
			r.create(c, n, rng)
		case k < 14:
			r.setStatus(c, n, rng)
		case k < 18:
			r.read(c, n)
		default:
			r.sweep(c, n, rng)
		}
	}
}

// record adds an operation that ran from call to ret to the history. An
// error other than ErrOutcomeUnknown fails the case: no fault is injected,
// so a store must have retried it or never met it. Such a call wrote
// nothing, so it is left out of the history. record reports whether the
// operation is in the history with a known answer.
func (r *linearizabilityRun) record(client int, kind opKind, what string, call, ret int64,
	in map[taskKey]keyInput, out map[taskKey]keyOutput, err error) bool {
	unknown := errors.Is(err, taskcreate.ErrOutcomeUnknown)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil && !unknown {
		r.t.Errorf("client %d, %s: %v", client, what, err)
		r.failed++
		return false
	}
	if unknown {
		r.t.Logf("client %d, %s: %v", client, what, err)
		r.unknown = append(r.unknown, len(r.ops))
	}
	r.kinds[kind]++
	r.ops = append(r.ops, porcupine.Operation{ClientId: client, Input: multiInput{perKey: in},
		Call: call, Output: multiOutput{unknown: unknown, perKey: out}, Return: ret})
	return !unknown
}

// create calls CreateTasks on a random part of the perimeter and domains.
func (r *linearizabilityRun) create(client, n int, rng *rand.Rand) {
	w := r.world
	var ds []taskcreate.Domain
	for len(ds) == 0 {
		for _, d := range w.domains {
			if rng.IntN(3) > 0 {
				ds = append(ds, d)
			}
		}
	}
	var ps []taskcreate.Pair
	for len(ps) == 0 {
		for _, p := range w.pairs {
			if rng.IntN(2) == 0 {
				ps = append(ps, p)
			}
		}
	}
	minConfidence := pickOne(rng, linearizabilityMinConfidences...)
	req := request(acme, pickOne(rng, linearizabilityRuns...), minConfidence, ds, ps...)
	req.ReturnOutcomes, req.RetireStale = true, rng.IntN(3) == 0
	var proposed []uuid.UUID // by the call's own goroutine, in candidate order
	svc := r.fx.service(r.fx.clock.tick(), taskcreate.WithRetry(10, 5*time.Millisecond),
		taskcreate.WithIDSource(func() (uuid.UUID, error) {
			id, err := r.fx.ids.next()
			proposed = append(proposed, id)
			return id, err
		}))
	what := fmt.Sprintf("op %d: CreateTasks(run %q, %d domains x %d pairs, minConfidence %v, retireStale %v)",
		n, req.WorkflowRunID, len(ds), len(ps), minConfidence, req.RetireStale)

	call := r.now()
	res, err := svc.CreateTasks(r.ctx, req)
	ret := r.now()

	if len(proposed) != len(ds)*len(ps) {
		r.t.Errorf("client %d, %s: the service proposed %d ids for %d candidates (error: %v)", client, what, len(proposed), len(ds)*len(ps), err)
		return
	}
	// ds and ps are unique and in key order: candidate i is
	// ds[i/len(ps)] with ps[i%len(ps)], as in the Batch.
	in := make(map[taskKey]keyInput, len(proposed))
	for i, id := range proposed {
		p := ps[i%len(ps)]
		key := taskKey{org: acme, domain: ds[i/len(ps)], shop: p.ShopID, variant: p.VariantID}
		in[key] = keyInput{kind: opCreate, key: key, run: req.WorkflowRunID, fate: fateOf(w.latest[key], minConfidence),
			retire: req.RetireStale, proposed: id}
	}
	out := make(map[taskKey]keyOutput, len(res.Outcomes))
	var named []seenTask
	for _, o := range res.Outcomes {
		key := taskKey{org: acme, domain: o.Domain, shop: o.ShopID, variant: o.VariantID}
		out[key] = keyOutput{result: candidateResult{outcome: o.Outcome, taskID: o.TaskID, retired: o.Retired}}
		if o.TaskID != uuid.Nil {
			named = append(named, seenTask{id: o.TaskID, key: key})
		}
	}
	if !r.record(client, opCreate, what, call, ret, in, out, err) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, named...)
	for _, o := range res.Outcomes {
		switch {
		case o.Retired:
			r.answers.retired++
		case o.Outcome == taskcreate.OutcomeCreated:
			r.answers.created++
		case o.Outcome == taskcreate.OutcomeUpdated:
			r.answers.updated++
		}
	}
}

// linearizabilityStatuses are the statuses a status change draws from.
var linearizabilityStatuses = []taskcreate.Status{
	taskcreate.StatusOpen, taskcreate.StatusInProgress, taskcreate.StatusDone, taskcreate.StatusDismissed,
}

// setStatus moves a task some create named to a random status; now and
// then it names an id no task has.
func (r *linearizabilityRun) setStatus(client, n int, rng *rand.Rand) {
	pick, st, bogus := rng.Uint64(), pickOne(rng, linearizabilityStatuses...), rng.IntN(10) == 0
	r.mu.Lock()
	var task seenTask
	if len(r.seen) > 0 && !bogus {
		task = r.seen[pick%uint64(len(r.seen))]
	} else {
		// Far beyond any id of the fixture's sequence.
		task = seenTask{id: sequenceID(1<<40 + uint64(client)<<20 + uint64(n)), key: r.world.keys[pick%uint64(len(r.world.keys))]}
	}
	r.mu.Unlock()
	what := fmt.Sprintf("op %d: SetTaskStatus(%s, %s) of %s/%s/%s", n, task.id, st, task.key.domain, task.key.shop, task.key.variant)

	call := r.now()
	err := r.fx.store.SetTaskStatus(r.ctx, acme, task.id, st)
	ret := r.now()

	var answer error
	for _, sentinel := range []error{taskcreate.ErrTaskNotFound, taskcreate.ErrOpenTaskExists} {
		if errors.Is(err, sentinel) {
			answer, err = sentinel, nil
		}
	}
	in := map[taskKey]keyInput{task.key: {kind: opSetStatus, key: task.key, id: task.id, status: st}}
	if r.record(client, opSetStatus, what, call, ret, in, map[taskKey]keyOutput{task.key: {err: answer}}, err) &&
		answer == taskcreate.ErrOpenTaskExists {
		r.mu.Lock()
		r.answers.refused++
		r.mu.Unlock()
	}
}

// read lists the organization's tasks in one statement: a read of every key.
func (r *linearizabilityRun) read(client, n int) {
	call := r.now()
	tasks, err := r.fx.store.ListTasks(r.ctx, taskcreate.TaskFilter{OrganizationID: acme})
	ret := r.now()

	in := make(map[taskKey]keyInput, len(r.world.keys))
	out := make(map[taskKey]keyOutput, len(r.world.keys))
	for _, key := range r.world.keys {
		in[key] = keyInput{kind: opRead, key: key}
		out[key] = keyOutput{}
	}
	for _, task := range tasks {
		key := keyOf(task)
		o, ok := out[key]
		if !ok {
			r.t.Errorf("client %d, op %d: ListTasks returned a task of a key the case never asked for: %s", client, n, describeTask(task))
			continue
		}
		o.tasks = o.tasks.with(keyTask{id: task.ID, status: task.Status, run: task.WorkflowRunID})
		out[key] = o
	}
	r.record(client, opRead, fmt.Sprintf("op %d: ListTasks", n), call, ret, in, out, err)
}

// sweep calls SweepRun for a random run: it may change every key.
func (r *linearizabilityRun) sweep(client, n int, rng *rand.Rand) {
	run := pickOne(rng, linearizabilityRuns...)
	svc := r.fx.service(r.fx.clock.tick(), taskcreate.WithRetry(10, 5*time.Millisecond))

	call := r.now()
	_, err := svc.SweepRun(r.ctx, taskcreate.SweepRequest{OrganizationID: acme, WorkflowRunID: run})
	ret := r.now()

	in := make(map[taskKey]keyInput, len(r.world.keys))
	for _, key := range r.world.keys {
		in[key] = keyInput{kind: opSweep, key: key, run: run}
	}
	r.record(client, opSweep, fmt.Sprintf("op %d: SweepRun(run %q)", n, run), call, ret, in, map[taskKey]keyOutput{}, err)
}
