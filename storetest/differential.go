package storetest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/actionvector/tasks/taskcreate"
	"github.com/google/uuid"
)

// differentialRounds is how many random datasets the differential case
// replays against the model; under testing.Short it replays a fifth, under
// the race detector a quarter (it checks logic, not data races).
const differentialRounds = 200

// differentialShards split the rounds into parallel subtests.
const differentialShards = 4

// testDifferential replays random datasets, requests and status changes on
// a store and on the model, and compares every result and every task after
// every step. Round r uses seed r, so a failure names the seed that
// reproduces it.
func testDifferential(t *testing.T, s suite) {
	rounds := differentialRounds
	switch {
	case testing.Short():
		rounds /= 5
	case raceDetector:
		rounds /= 4
	}
	t.Logf("differential: %d rounds in %d shards", rounds, differentialShards)
	for shard := range differentialShards {
		t.Run(fmt.Sprintf("shard%d", shard), func(t *testing.T) {
			t.Parallel()
			calls, refused := 0, 0
			for seed := uint64(shard); seed < uint64(rounds); seed += differentialShards {
				c, r := differentialRound(t, s, seed)
				calls, refused = calls+c, refused+r
			}
			t.Logf("shard %d: %d CreateTasks calls compared with the model, %d of them refused by the retirement budget", shard, calls, refused)
		})
	}
}

// universe is the small set of ids one round draws from, so that keys,
// snapshots and tasks collide often.
type universe struct {
	rng      *rand.Rand
	orgs     []string
	shops    []string
	variants []string
	wide     bool // rounds where partial snapshots and whole perimeters are common
}

func newUniverse(rng *rand.Rand) *universe {
	u := &universe{rng: rng}
	u.orgs = pickSome(rng, []string{acme, acmeCase, globex}, 2, 3)
	u.shops = pickSome(rng, []string{"s1", "S1", "s2", "s\u00e9"}, 1, 3)
	u.variants = pickSome(rng, []string{"v1", "V1", "v2", "v\u00e9", "v10"}, 2, 4)
	if u.wide = rng.IntN(3) == 0; u.wide {
		// Wide enough for a call to retire more than RetireGuardMinimum
		// tasks, so that the retirement budget decides.
		u.shops = append(u.shops, "s3", "s4", "s5", "s6", "s7")
		u.variants = append(u.variants, "v3", "v4", "v5", "v6", "v7", "v8")
	}
	return u
}

// pickSome returns between least and most distinct elements of from.
func pickSome[T any](rng *rand.Rand, from []T, least, most int) []T {
	out := slices.Clone(from)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:least+rng.IntN(most-least+1)]
}

func pickOne[T any](rng *rand.Rand, from ...T) T { return from[rng.IntN(len(from))] }

// vector returns a random action vector. Values sit on the edges of the
// rules: NULL, zero, negative, and confidences equal to the thresholds
// requests draw.
func (u *universe) vector(org string, d taskcreate.Domain, shop, variant string, date time.Time) taskcreate.ActionVector {
	rng := u.rng
	if rng.IntN(4) == 0 {
		// The same calendar date, given in another zone at another hour.
		zone := time.FixedZone("", (rng.IntN(25)-11)*3600)
		date = time.Date(date.Year(), date.Month(), date.Day(), rng.IntN(24), rng.IntN(60), 0, 0, zone)
	}
	evidence := pickOne(rng,
		`{"why":"sell-through","score":%d}`,
		`{ "drivers" : [ "stock", "demand" ], "n" : %d , "nested": {"a": null, "b": true} }`,
		`[%d, "caf\u00e9 \u2615", {"k": 1.5e2}]`,
		`{"text": "line\nbreak \"quoted\" \\ back", "n": %d}`,
	)
	return taskcreate.ActionVector{
		OrganizationID: org, VariantID: variant, ShopID: shop, SnapshotDate: date, Domain: d,
		RecommendedQty:         pickOne(rng, nil, intPtr(0), intPtr(-3), intPtr(1), intPtr(4), intPtr(250), intPtr(math.MaxInt32)),
		RecommendedDiscountPct: pickOne(rng, nil, floatPtr(0), floatPtr(-10), floatPtr(0.5), floatPtr(15), floatPtr(33.3)),
		Confidence:             pickOne(rng, nil, floatPtr(0), floatPtr(-0.2), floatPtr(0.3), floatPtr(0.5), floatPtr(0.7), floatPtr(1), floatPtr(0.55)),
		Snapshot:               []byte(fmt.Sprintf(evidence, rng.IntN(1000))),
	}
}

// snapshot returns rows for a random half of the positions of org in d at
// date.
func (u *universe) snapshot(org string, d taskcreate.Domain, date time.Time) []taskcreate.ActionVector {
	return u.someOf(org, d, date, 2)
}

// someOf returns rows for about one in n of the positions of org in d at
// date: with a large n, a snapshot the data platform is still loading.
func (u *universe) someOf(org string, d taskcreate.Domain, date time.Time, n int) []taskcreate.ActionVector {
	var rows []taskcreate.ActionVector
	for _, shop := range u.shops {
		for _, variant := range u.variants {
			if u.rng.IntN(n) == 0 {
				rows = append(rows, u.vector(org, d, shop, variant, date))
			}
		}
	}
	return rows
}

// request returns a random valid request, with duplicate domains and pairs,
// sometimes an empty perimeter or a variant no row has.
func (u *universe) request() taskcreate.Request {
	rng := u.rng
	req := taskcreate.Request{
		OrganizationID: pickOne(rng, u.orgs...),
		WorkflowRunID:  pickOne(rng, "run-1", "run-2", "run-3"),
		MinConfidence:  pickOne(rng, 0, 0, 0.3, 0.5, 0.55, 0.7, 1, rng.Float64()),
		Perimeter:      []taskcreate.Pair{},
		DryRun:         rng.IntN(5) == 0,
		RetireStale:    rng.IntN(3) == 0,
		ReturnOutcomes: rng.IntN(2) == 0,
	}
	for range 1 + rng.IntN(4) {
		req.Domains = append(req.Domains, pickOne(rng, allDomains...))
	}
	for range rng.IntN(9) {
		variant := pickOne(rng, u.variants...)
		if rng.IntN(10) == 0 {
			variant = "v-without-rows"
		}
		req.Perimeter = append(req.Perimeter, position(pickOne(rng, u.shops...), variant))
	}
	if u.wide && rng.IntN(2) == 0 { // every position: the call a partial snapshot empties
		req.Domains, req.RetireStale = allDomains, rng.IntN(3) > 0
		for _, shop := range u.shops {
			for _, variant := range u.variants {
				req.Perimeter = append(req.Perimeter, position(shop, variant))
			}
		}
	}
	if rng.IntN(5) == 0 {
		req.MaxRetireFraction = floatPtr(pickOne(rng, 0, 0.3, 0.5, 1))
	}
	if rng.IntN(6) == 0 {
		req.SnapshotDate = day(rng.IntN(8)) // some days have no rows
	}
	return req
}

// differentialRound plays one random dataset and returns how many
// CreateTasks calls it compared, and how many of them the retirement
// budget refused.
func differentialRound(t *testing.T, s suite, seed uint64) (calls, refused int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x5701e7e57))
	u := newUniverse(rng)
	fx := s.fixture(t)
	m := newModel()
	step := "initial action vectors"
	fatalf := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("differential seed %d, %s: %s", seed, step, fmt.Sprintf(format, args...))
	}

	// Every organization gets 1 to 3 snapshot dates per domain, or none.
	latest := map[string]int{} // "org/domain" -> day of its latest snapshot
	var rows []taskcreate.ActionVector
	for _, org := range u.orgs {
		for _, d := range allDomains {
			if rng.IntN(7) == 0 {
				continue
			}
			for _, n := range pickSome(rng, []int{1, 2, 3, 4, 5}, 1, 3) {
				rows = append(rows, u.snapshot(org, d, day(n))...)
				latest[org+"/"+string(d)] = max(latest[org+"/"+string(d)], n)
			}
		}
	}
	putVectors(fx, m, rows, fatalf)

	calls = 4 + rng.IntN(7)
	var last taskcreate.Request
	for call := range calls {
		if call > 0 && rng.IntN(2) == 0 {
			step = fmt.Sprintf("action vectors before call %d", call)
			org, domains := pickOne(rng, u.orgs...), []taskcreate.Domain{pickOne(rng, allDomains...)}
			kind, density := rng.IntN(4), 2
			if u.wide && rng.IntN(2) == 0 {
				kind = 2
			}
			if kind == 2 { // a newer refresh of every domain, partly loaded
				domains, density = allDomains, 6
			}
			for _, d := range domains {
				n := latest[org+"/"+string(d)]
				switch kind {
				case 0: // a newer snapshot moves the latest date
					n += 1 + rng.IntN(2)
				case 1: // an older one changes nothing
					n = max(n-1-rng.IntN(3), 0)
				case 2:
					n++
				} // otherwise the latest snapshot is rewritten: upserts on the PK
				latest[org+"/"+string(d)] = max(latest[org+"/"+string(d)], n)
				putVectors(fx, m, u.someOf(org, d, day(n), density), fatalf)
			}
			compareTasks(fx, m, u, fatalf)
		}
		if call > 0 && rng.IntN(2) == 0 {
			step = fmt.Sprintf("status changes before call %d", call)
			for range 1 + rng.IntN(3) {
				changeStatus(fx, m, u, fatalf)
			}
			compareTasks(fx, m, u, fatalf)
		}

		if call > 0 && rng.IntN(4) == 0 {
			sweep := taskcreate.SweepRequest{OrganizationID: pickOne(rng, u.orgs...),
				WorkflowRunID: pickOne(rng, "run-1", "run-2", "run-3"), DryRun: rng.IntN(3) == 0}
			step = fmt.Sprintf("sweep before call %d (%+v)", call, sweep)
			at := fx.clock.tick()
			res, err := fx.service(at).SweepRun(fx.ctx, sweep)
			if err != nil {
				fatalf("SweepRun: %v", err)
			}
			code := taskcreate.SuccessCodeTasksSwept
			if sweep.DryRun {
				code = taskcreate.SuccessCodeTasksPreviewed
			}
			want := taskcreate.SweepResult{WorkflowRunID: sweep.WorkflowRunID, SuccessCode: code, Dismissed: m.sweepRun(sweep, stamp(at))}
			if res != want {
				fatalf("SweepRun: want %+v, got %+v", want, res)
			}
			compareTasks(fx, m, u, fatalf)
		}

		req := u.request()
		if call > 0 && rng.IntN(3) == 0 {
			// A re-run over the same perimeter: updates are the common case.
			req.OrganizationID, req.Domains, req.Perimeter = last.OrganizationID, last.Domains, last.Perimeter
		}
		last = req
		priority := pickOne(rng, taskcreate.PriorityLow, taskcreate.PriorityMedium, taskcreate.PriorityHigh, taskcreate.PriorityUrgent)
		budget := pickOne(rng, taskcreate.DefaultRetireBudget, taskcreate.DefaultRetireBudget, 0, 0.25, 1)
		step = fmt.Sprintf("call %d (%+v, priority %s, retire budget %v)", call, req, priority, budget)
		first, at := fx.ids.peek(), fx.clock.tick()
		res, err := fx.service(at, taskcreate.WithDefaultPriority(priority), taskcreate.WithRetireBudget(budget)).CreateTasks(fx.ctx, req)
		want, outcomes, refusal := m.createTasks(req, priority, stamp(at), func(i int) uuid.UUID { return sequenceID(first + uint64(i)) }, budget)
		if refusal != nil || err != nil {
			var got *taskcreate.RetireBudgetError
			if refusal == nil || !errors.As(err, &got) || *got != *refusal.(*taskcreate.RetireBudgetError) {
				fatalf("CreateTasks: want error %v, got %v", refusal, err)
			}
			compareTasks(fx, m, u, fatalf) // a refusal writes nothing
			refused++
			continue
		}
		code := taskcreate.SuccessCodeTasksCreated
		if req.DryRun {
			code = taskcreate.SuccessCodeTasksPreviewed
		}
		if msg := resultDiffCode(res, req.WorkflowRunID, code, want); msg != "" {
			fatalf("result differs from the model: %s", msg)
		}
		switch {
		case !req.ReturnOutcomes && res.Outcomes != nil:
			fatalf("outcomes listed though not asked for: %+v", res.Outcomes)
		case req.ReturnOutcomes:
			if msg := outcomesDiff(outcomes, res.Outcomes); msg != "" {
				fatalf("outcomes differ from the model:\n%s", msg)
			}
		}
		compareTasks(fx, m, u, fatalf)
	}
	return calls, refused
}

// putVectors writes rows to the store and the model. Rows with the same
// primary key are left out but for the last: what a store does with both
// in one call is not specified.
func putVectors(fx *fixture, m *model, rows []taskcreate.ActionVector, fatalf func(string, ...any)) {
	seen := map[vectorKey]bool{}
	var unique []taskcreate.ActionVector
	for i := len(rows) - 1; i >= 0; i-- {
		v := rows[i]
		key := vectorKey{v.OrganizationID, v.VariantID, v.ShopID, calendarDate(v.SnapshotDate), v.Domain}
		if !seen[key] {
			seen[key] = true
			unique = append(unique, v)
		}
	}
	if len(unique) == 0 {
		return
	}
	if err := fx.store.PutActionVectors(fx.ctx, unique); err != nil {
		fatalf("PutActionVectors(%d rows): %v", len(unique), err)
	}
	m.putVectors(unique)
}

// changeStatus moves a random task, or an id the organization does not
// have, to a random status on the store and the model, and checks that both
// agree on the error.
func changeStatus(fx *fixture, m *model, u *universe, fatalf func(string, ...any)) {
	rng := u.rng
	org, id := pickOne(rng, u.orgs...), sequenceID(1<<40)
	if len(m.tasks) > 0 && rng.IntN(8) > 0 {
		task := m.tasks[rng.IntN(len(m.tasks))]
		id = task.ID
		if rng.IntN(6) > 0 {
			org = task.OrganizationID
		}
	}
	st := pickOne(rng, taskcreate.StatusOpen, taskcreate.StatusInProgress, taskcreate.StatusDone, taskcreate.StatusDismissed)
	i, wantErr := m.setTaskStatus(org, id, st)
	err := fx.store.SetTaskStatus(fx.ctx, org, id, st)
	switch {
	case wantErr == nil && err != nil:
		fatalf("SetTaskStatus(%q, %s, %s): %v", org, id, st, err)
	case wantErr != nil && !errors.Is(err, wantErr):
		fatalf("SetTaskStatus(%q, %s, %s): want an error matching %q, got %v", org, id, st, wantErr, err)
	case wantErr == nil:
		// Whether SetTaskStatus stamps updated_at is the store's choice:
		// adopt what it wrote, and compare everything else.
		tasks, err := fx.store.ListTasks(fx.ctx, taskcreate.TaskFilter{OrganizationID: org})
		if err != nil {
			fatalf("ListTasks: %v", err)
		}
		if j := slices.IndexFunc(tasks, func(t taskcreate.Task) bool { return t.ID == id }); j >= 0 {
			m.tasks[i].UpdatedAt = tasks[j].UpdatedAt
		}
	}
}

// compareTasks checks every organization's tasks, then one random filter,
// against the model.
func compareTasks(fx *fixture, m *model, u *universe, fatalf func(string, ...any)) {
	filters := make([]taskcreate.TaskFilter, 0, len(u.orgs)+1)
	for _, org := range u.orgs {
		filters = append(filters, taskcreate.TaskFilter{OrganizationID: org})
	}
	f := taskcreate.TaskFilter{OrganizationID: pickOne(u.rng, u.orgs...)}
	if u.rng.IntN(2) == 0 {
		f.WorkflowRunID = pickOne(u.rng, "run-1", "run-2", "run-3")
	}
	for _, st := range []taskcreate.Status{taskcreate.StatusOpen, taskcreate.StatusInProgress, taskcreate.StatusDone, taskcreate.StatusDismissed} {
		if u.rng.IntN(3) == 0 {
			f.Statuses = append(f.Statuses, st)
		}
	}
	filters = append(filters, f)
	for _, f := range filters {
		got, err := fx.store.ListTasks(fx.ctx, f)
		if err != nil {
			fatalf("ListTasks(%+v): %v", f, err)
		}
		if msg := tasksDiff(m.listTasks(f), got); msg != "" {
			fatalf("ListTasks(%+v) differs from the model:\n%s", f, msg)
		}
	}
}
