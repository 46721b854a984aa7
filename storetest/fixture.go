package storetest

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actionvector/tasks/taskcreate"
	"github.com/google/uuid"
)

// Short names for the values the cases use everywhere.
const (
	restock   = taskcreate.Restock
	rebalance = taskcreate.Rebalance
	markdown  = taskcreate.Markdown
)

// allDomains lists the domains in a scrambled order: the service must not
// depend on the order a caller gives them in.
var allDomains = []taskcreate.Domain{restock, markdown, rebalance}

// Organizations of the cases. "ACME" differs from "acme" only in case: they
// are two tenants all the same.
const (
	acme     = "acme"
	acmeCase = "ACME"
	globex   = "globex"
)

// suite is what every case receives: the adapter's store factory and features.
type suite struct {
	newStore func(t *testing.T) Store
	features Features
}

// fixture is one fresh store with a deterministic clock and id source, and
// shorthands that stop the test on unexpected errors.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	store Store
	clock *stepClock
	ids   *idSequence
}

func (s suite) fixture(t *testing.T) *fixture {
	t.Helper()
	st := s.newStore(t)
	if st == nil {
		t.Fatal("newStore returned a nil Store")
	}
	return &fixture{t: t, ctx: t.Context(), store: st, clock: newStepClock(), ids: &idSequence{}}
}

// requireFeature skips the test unless provided: the adapter's test left
// the Features field named field nil, so the suite cannot do what lacks says.
func requireFeature(t *testing.T, provided bool, field, lacks string) {
	t.Helper()
	if !provided {
		t.Skipf("Features.%s is nil: the adapter's test cannot %s", field, lacks)
	}
}

// service returns a Service on the fixture's store whose clock reads at and
// whose ids come from the fixture's sequence; opts come last and may
// override both.
func (fx *fixture) service(at time.Time, opts ...taskcreate.Option) *taskcreate.Service {
	base := []taskcreate.Option{
		taskcreate.WithClock(func() time.Time { return at }),
		taskcreate.WithIDSource(fx.ids.next),
		taskcreate.WithRetry(5, time.Millisecond),
	}
	return taskcreate.New(fx.store, append(base, opts...)...)
}

// create runs CreateTasks at the clock's next reading and stops the test on
// error. It returns the result and the time the call stamped tasks with.
func (fx *fixture) create(req taskcreate.Request, opts ...taskcreate.Option) (taskcreate.Result, time.Time) {
	fx.t.Helper()
	at := fx.clock.tick()
	res, err := fx.service(at, opts...).CreateTasks(fx.ctx, req)
	noError(fx.t, err, fmt.Sprintf("CreateTasks(org %q, run %q)", req.OrganizationID, req.WorkflowRunID))
	return res, stamp(at)
}

// put writes action vectors and stops the test on error.
func (fx *fixture) put(rows ...taskcreate.ActionVector) {
	fx.t.Helper()
	noError(fx.t, fx.store.PutActionVectors(fx.ctx, rows), fmt.Sprintf("PutActionVectors(%d rows)", len(rows)))
}

// list returns the tasks f selects and stops the test on error.
func (fx *fixture) list(f taskcreate.TaskFilter) []taskcreate.Task {
	fx.t.Helper()
	tasks, err := fx.store.ListTasks(fx.ctx, f)
	noError(fx.t, err, fmt.Sprintf("ListTasks(%+v)", f))
	return tasks
}

// tasks returns every task of org.
func (fx *fixture) tasks(org string) []taskcreate.Task {
	fx.t.Helper()
	return fx.list(taskcreate.TaskFilter{OrganizationID: org})
}

// tasksOfRun returns the tasks of org that run owns.
func (fx *fixture) tasksOfRun(org, run string) []taskcreate.Task {
	fx.t.Helper()
	return fx.list(taskcreate.TaskFilter{OrganizationID: org, WorkflowRunID: run})
}

// tasksIn returns the tasks of org in one of the statuses sts.
func (fx *fixture) tasksIn(org string, sts ...taskcreate.Status) []taskcreate.Task {
	fx.t.Helper()
	return fx.list(taskcreate.TaskFilter{OrganizationID: org, Statuses: sts})
}

// setStatus moves a task to st and stops the test on error.
func (fx *fixture) setStatus(org string, id uuid.UUID, st taskcreate.Status) {
	fx.t.Helper()
	noError(fx.t, fx.store.SetTaskStatus(fx.ctx, org, id, st), fmt.Sprintf("SetTaskStatus(%q, %s, %s)", org, id, st))
}

// onlyTask returns the single task of org for key (domain, shop, variant)
// in status st, and stops the test unless there is exactly one.
func (fx *fixture) onlyTask(org string, d taskcreate.Domain, shop, variant string, st taskcreate.Status) taskcreate.Task {
	fx.t.Helper()
	var found []taskcreate.Task
	for _, task := range fx.tasks(org) {
		if task.Domain == d && task.ShopID == shop && task.VariantID == variant && task.Status == st {
			found = append(found, task)
		}
	}
	if len(found) != 1 {
		fx.t.Fatalf("want exactly one %s task for %s/%s/%q/%q, got %d", st, org, d, shop, variant, len(found))
	}
	return found[0]
}

// stamp is what the service makes of a clock reading: UTC, whole microseconds.
func stamp(at time.Time) time.Time { return at.UTC().Truncate(time.Microsecond) }

// stepClock hands out readings that advance by a fixed step. The first
// reading is not in UTC and has nanoseconds, so the service's truncation to
// UTC microseconds is always exercised.
type stepClock struct {
	base time.Time
	step time.Duration
	n    atomic.Int64
}

func newStepClock() *stepClock {
	return &stepClock{
		base: time.Date(2025, 6, 2, 11, 30, 15, 123456789, time.FixedZone("UTC+2", 2*60*60)),
		step: time.Second + 1001*time.Microsecond,
	}
}

// tick returns the next reading. It is safe for concurrent use.
func (c *stepClock) tick() time.Time {
	return c.base.Add(time.Duration(c.n.Add(1)) * c.step)
}

// idSequence hands out deterministic, unique, increasing UUIDv7-shaped ids.
type idSequence struct {
	mu sync.Mutex
	n  uint64
}

// next is a taskcreate.WithIDSource function. It is safe for concurrent use.
func (s *idSequence) next() (uuid.UUID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := sequenceID(s.n)
	s.n++
	return id, nil
}

// peek returns the index of the id next will return.
func (s *idSequence) peek() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// sequenceID returns id number n of a sequence: a UUIDv7 whose timestamp and
// random bits are derived from n, so ids sort in sequence order.
func sequenceID(n uint64) uuid.UUID {
	var id uuid.UUID
	ms := uint64(1_748_000_000_000) + n // mid-2025, in Unix milliseconds
	binary.BigEndian.PutUint64(id[0:8], ms<<16)
	id[6] = 0x70 // version 7
	binary.BigEndian.PutUint64(id[8:16], n)
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	return id
}

// day returns the n-th snapshot date of the suite's calendar, as midnight UTC.
func day(n int) time.Time { return time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n) }

// position returns the perimeter pair of variant in shop.
func position(shop, variant string) taskcreate.Pair {
	return taskcreate.Pair{VariantID: variant, ShopID: shop}
}

// request returns a request of org and run for every domain in ds over the
// perimeter ps.
func request(org, run string, minConfidence float64, ds []taskcreate.Domain, ps ...taskcreate.Pair) taskcreate.Request {
	if ps == nil {
		ps = []taskcreate.Pair{}
	}
	return taskcreate.Request{OrganizationID: org, WorkflowRunID: run, Domains: ds, MinConfidence: minConfidence, Perimeter: ps}
}

// vector returns an action vector that recommends something in every domain
// (a quantity, a discount and a confidence of 0.8) and carries a snapshot
// naming the row, so evidence tells rows apart. edits change it.
func vector(org string, d taskcreate.Domain, shop, variant string, date time.Time, edits ...func(*taskcreate.ActionVector)) taskcreate.ActionVector {
	snapshot, _ := json.Marshal(map[string]any{
		"row":     []string{org, string(d), shop, variant, date.Format(time.DateOnly)},
		"drivers": map[string]any{"sellThrough": 0.42, "weeksOfCover": 3},
		"note":    "café ☕ \"quoted\"",
	})
	v := taskcreate.ActionVector{
		OrganizationID: org, VariantID: variant, ShopID: shop, SnapshotDate: date, Domain: d,
		RecommendedQty: intPtr(3), RecommendedDiscountPct: floatPtr(15), Confidence: floatPtr(0.8),
		Snapshot: snapshot,
	}
	for _, edit := range edits {
		edit(&v)
	}
	return v
}

// Edits for vector.
func qty(n int) func(*taskcreate.ActionVector) {
	return func(v *taskcreate.ActionVector) { v.RecommendedQty = intPtr(n) }
}
func noQty(v *taskcreate.ActionVector) { v.RecommendedQty = nil }
func discount(p float64) func(*taskcreate.ActionVector) {
	return func(v *taskcreate.ActionVector) { v.RecommendedDiscountPct = floatPtr(p) }
}
func noDiscount(v *taskcreate.ActionVector) { v.RecommendedDiscountPct = nil }
func confidence(c float64) func(*taskcreate.ActionVector) {
	return func(v *taskcreate.ActionVector) { v.Confidence = floatPtr(c) }
}
func noConfidence(v *taskcreate.ActionVector) { v.Confidence = nil }
func snapshot(js string) func(*taskcreate.ActionVector) {
	return func(v *taskcreate.ActionVector) { v.Snapshot = json.RawMessage(js) }
}

func intPtr(n int) *int           { return &n }
func floatPtr(f float64) *float64 { return &f }

// taskFrom returns the task a call stamped at and owned by run makes of v
// when it creates one with id and priority.
func taskFrom(v taskcreate.ActionVector, id uuid.UUID, run string, priority taskcreate.Priority, at time.Time) taskcreate.Task {
	return taskcreate.Task{
		ID: id, OrganizationID: v.OrganizationID, Domain: v.Domain, ShopID: v.ShopID, VariantID: v.VariantID,
		Status: taskcreate.StatusOpen, Priority: priority, WorkflowRunID: run,
		SnapshotDate:   calendarDate(v.SnapshotDate),
		RecommendedQty: v.RecommendedQty, RecommendedDiscountPct: v.RecommendedDiscountPct, Confidence: v.Confidence,
		Evidence: v.Snapshot, CreatedAt: at, UpdatedAt: at,
	}
}

// refreshed returns task as a call stamped at and owned by run leaves it
// after refreshing it from v.
func refreshed(task taskcreate.Task, v taskcreate.ActionVector, run string, at time.Time) taskcreate.Task {
	task.WorkflowRunID = run
	task.SnapshotDate = calendarDate(v.SnapshotDate)
	task.RecommendedQty, task.RecommendedDiscountPct, task.Confidence = v.RecommendedQty, v.RecommendedDiscountPct, v.Confidence
	task.Evidence = v.Snapshot
	task.UpdatedAt = at
	return task
}

// calendarDate returns the date of t in its own location as midnight UTC,
// the form stores return snapshot dates in.
func calendarDate(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
