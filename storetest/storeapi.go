package storetest

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
	"github.com/google/uuid"
)

// The cases of the methods every adapter offers besides the port.

// Ids that sort differently by bytes and by any language's collation:
// case, a space, a precomposed and a decomposed accent. Listed in byte order.
var (
	shopsInByteOrder    = []string{"B", "Z", "a", "a b", "ab", "e", "e\u0301", "\u00c9", "\u00e9"}
	variantsInByteOrder = []string{"V", "e", "v", "\u00e9"}
)

func testListOrderIsByteOrder(t *testing.T, s suite) {
	fx := s.fixture(t)
	var rows []taskcreate.ActionVector
	var want []string
	for _, d := range taskcreate.Domains() {
		for _, shop := range shopsInByteOrder {
			for _, variant := range variantsInByteOrder {
				rows = append(rows, vector(acme, d, shop, variant, day(1)))
				want = append(want, string(d)+"/"+shop+"/"+variant)
			}
		}
	}
	fx.put(rows...)
	// One call per shop, last shop first: neither insertion order nor
	// created_at follows the order ListTasks must return.
	for _, shop := range slices.Backward(shopsInByteOrder) {
		var ps []taskcreate.Pair
		for _, variant := range slices.Backward(variantsInByteOrder) {
			ps = append(ps, position(shop, variant))
		}
		res, _ := fx.create(request(acme, "run-1", 0, allDomains, ps...))
		wantResult(t, "CreateTasks for shop "+shop, res, "run-1", store.Outcome{Created: 3 * len(ps)})
	}
	wantKeys(t, fx.tasks(acme), want...)
}

func testListOrderWithinKey(t *testing.T, s suite) {
	fx := s.fixture(t)
	fx.put(vector(acme, restock, "s1", "v1", day(1)), vector(acme, restock, "s1", "v2", day(1)))
	noon := time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC) // a whole second: no fraction to print
	// create makes the one task of variant at clock reading at, with id.
	create := func(variant string, at time.Time, id uuid.UUID, then taskcreate.Status) {
		t.Helper()
		svc := fx.service(at, taskcreate.WithIDSource(func() (uuid.UUID, error) { return id, nil }))
		res, err := svc.CreateTasks(fx.ctx, request(acme, "run-1", 0, []taskcreate.Domain{restock}, position("s1", variant)))
		noError(t, err, "CreateTasks")
		wantResult(t, "CreateTasks", res, "run-1", store.Outcome{Created: 1})
		if then != taskcreate.StatusOpen {
			fx.setStatus(acme, id, then)
		}
	}
	// v1: created at noon+2s, noon, noon+0.5s, in that order.
	create("v1", noon.Add(2*time.Second), sequenceID(1), taskcreate.StatusDone)
	create("v1", noon, sequenceID(2), taskcreate.StatusDismissed)
	create("v1", noon.Add(500*time.Millisecond), sequenceID(3), taskcreate.StatusOpen)
	// v2: two tasks created at the same time; the id breaks the tie.
	create("v2", noon, sequenceID(9), taskcreate.StatusDone)
	create("v2", noon, sequenceID(8), taskcreate.StatusOpen)

	var got []uuid.UUID
	for _, task := range fx.tasks(acme) {
		got = append(got, task.ID)
	}
	want := []uuid.UUID{sequenceID(2), sequenceID(3), sequenceID(1), sequenceID(8), sequenceID(9)}
	if !slices.Equal(want, got) {
		t.Fatalf("task ids in ListTasks order: want %v, got %v", want, got)
	}
}

func testListFilters(t *testing.T, s suite) {
	fx := s.fixture(t)
	for _, org := range []string{acme, globex} {
		for _, variant := range []string{"v1", "v2", "v3", "v4"} {
			fx.put(vector(org, restock, "s1", variant, day(1)))
		}
		res, _ := fx.create(request(org, "run-1", 0, []taskcreate.Domain{restock}, position("s1", "v1"), position("s1", "v2"), position("s1", "v3")))
		wantResult(t, "CreateTasks of run-1", res, "run-1", store.Outcome{Created: 3})
		res, _ = fx.create(request(org, "run-2", 0, []taskcreate.Domain{restock}, position("s1", "v4")))
		wantResult(t, "CreateTasks of run-2", res, "run-2", store.Outcome{Created: 1})
	}
	fx.setStatus(acme, fx.onlyTask(acme, restock, "s1", "v2", taskcreate.StatusOpen).ID, taskcreate.StatusDone)
	fx.setStatus(acme, fx.onlyTask(acme, restock, "s1", "v3", taskcreate.StatusOpen).ID, taskcreate.StatusInProgress)

	all := fx.tasks(acme)
	wantKeys(t, all, "restock/s1/v1", "restock/s1/v2", "restock/s1/v3", "restock/s1/v4")
	for _, task := range all {
		wantEqual(t, "OrganizationID of a task of acme", acme, task.OrganizationID)
	}
	// only returns the tasks of all whose variant is one of variants.
	only := func(variants ...string) []taskcreate.Task {
		return slices.DeleteFunc(slices.Clone(all), func(t taskcreate.Task) bool { return !slices.Contains(variants, t.VariantID) })
	}
	st := func(ss ...taskcreate.Status) []taskcreate.Status { return ss }
	cases := []struct {
		filter taskcreate.TaskFilter
		want   []taskcreate.Task
	}{
		{taskcreate.TaskFilter{OrganizationID: acme, WorkflowRunID: "run-1"}, only("v1", "v2", "v3")},
		{taskcreate.TaskFilter{OrganizationID: acme, WorkflowRunID: "run-2"}, only("v4")},
		{taskcreate.TaskFilter{OrganizationID: acme, WorkflowRunID: "run-none"}, nil},
		{taskcreate.TaskFilter{OrganizationID: acme, Statuses: st(taskcreate.StatusDone)}, only("v2")},
		{taskcreate.TaskFilter{OrganizationID: acme, Statuses: st(taskcreate.StatusDone, taskcreate.StatusDone)}, only("v2")},
		{taskcreate.TaskFilter{OrganizationID: acme, Statuses: st(taskcreate.StatusInProgress, taskcreate.StatusOpen)}, only("v1", "v3", "v4")},
		{taskcreate.TaskFilter{OrganizationID: acme, Statuses: st(taskcreate.StatusDismissed)}, nil},
		{taskcreate.TaskFilter{OrganizationID: acme, WorkflowRunID: "run-1", Statuses: st(taskcreate.StatusOpen)}, only("v1")},
		{taskcreate.TaskFilter{OrganizationID: acme, Statuses: st()}, all},
		{taskcreate.TaskFilter{OrganizationID: acmeCase}, nil},
	}
	for _, c := range cases {
		wantTasks(t, "ListTasks with a filter", c.want, fx.list(c.filter))
	}
	globexTasks := fx.tasks(globex)
	wantKeys(t, globexTasks, "restock/s1/v1", "restock/s1/v2", "restock/s1/v3", "restock/s1/v4")
	for _, task := range globexTasks {
		wantEqual(t, "OrganizationID of a task of globex", globex, task.OrganizationID)
		wantEqual(t, "Status of a task of globex", taskcreate.StatusOpen, task.Status)
	}
}

func testListRejectsInvalidFilter(t *testing.T, s suite) {
	fx := s.fixture(t)
	for _, f := range []taskcreate.TaskFilter{
		{},
		{OrganizationID: "  "},
		{OrganizationID: strings.Repeat("o", 256)},
		{OrganizationID: "acme\x00"},
		{OrganizationID: acme, WorkflowRunID: "run\t1"},
		{OrganizationID: acme, Statuses: []taskcreate.Status{taskcreate.StatusOpen, "CLOSED"}},
	} {
		_, err := fx.store.ListTasks(fx.ctx, f)
		wantErrorIs(t, err, taskcreate.ErrInvalidRequest, fmt.Sprintf("ListTasks(%#v)", f))
	}
}

// withOneTask returns a fixture whose store holds acme's restock row of
// s1/v1 and the one OPEN task made from it by req, a call of run-1.
func (s suite) withOneTask(t *testing.T) (fx *fixture, req taskcreate.Request, task taskcreate.Task) {
	t.Helper()
	fx = s.fixture(t)
	fx.put(vector(acme, restock, "s1", "v1", day(1)))
	req = request(acme, "run-1", 0, []taskcreate.Domain{restock}, position("s1", "v1"))
	fx.create(req)
	return fx, req, fx.onlyTask(acme, restock, "s1", "v1", taskcreate.StatusOpen)
}

func testSetStatusChangesOnlyStatus(t *testing.T, s suite) {
	fx, _, want := s.withOneTask(t)
	for _, st := range []taskcreate.Status{taskcreate.StatusInProgress, taskcreate.StatusInProgress, taskcreate.StatusDone,
		taskcreate.StatusDismissed, taskcreate.StatusOpen, taskcreate.StatusDone, taskcreate.StatusInProgress} {
		fx.setStatus(acme, want.ID, st)
		tasks := fx.tasks(acme)
		if len(tasks) != 1 {
			t.Fatalf("after SetTaskStatus(%s): want 1 task, got %d", st, len(tasks))
		}
		want.Status = st
		// Whether updated_at moves is the store's choice.
		want.UpdatedAt = tasks[0].UpdatedAt
		wantTasks(t, "task after SetTaskStatus("+string(st)+")", []taskcreate.Task{want}, tasks)
	}
}

func testSetStatusOfUnknownTask(t *testing.T, s suite) {
	fx, _, _ := s.withOneTask(t)
	before := fx.tasks(acme)
	for _, id := range []uuid.UUID{sequenceID(77), uuid.Nil} {
		err := fx.store.SetTaskStatus(fx.ctx, acme, id, taskcreate.StatusDone)
		wantErrorIs(t, err, taskcreate.ErrTaskNotFound, "SetTaskStatus of unknown id "+id.String())
	}
	wantTasks(t, "tasks after SetTaskStatus of unknown ids", before, fx.tasks(acme))
}

func testSetStatusOfOtherOrganizationsTask(t *testing.T, s suite) {
	fx, _, task := s.withOneTask(t)
	before := fx.tasks(acme)
	for _, org := range []string{globex, acmeCase} {
		err := fx.store.SetTaskStatus(fx.ctx, org, task.ID, taskcreate.StatusDone)
		wantErrorIs(t, err, taskcreate.ErrTaskNotFound, "SetTaskStatus by "+org+" of a task of acme")
	}
	wantTasks(t, "tasks of acme after other organizations tried to change them", before, fx.tasks(acme))
}

func testReopenWhileAnotherTaskIsOpen(t *testing.T, s suite) {
	fx, req, done := s.withOneTask(t)
	fx.setStatus(acme, done.ID, taskcreate.StatusDone)
	fx.create(req)
	open := fx.onlyTask(acme, restock, "s1", "v1", taskcreate.StatusOpen)
	before := fx.tasks(acme)
	for _, st := range []taskcreate.Status{taskcreate.StatusOpen, taskcreate.StatusInProgress} {
		err := fx.store.SetTaskStatus(fx.ctx, acme, done.ID, st)
		wantErrorIs(t, err, taskcreate.ErrOpenTaskExists, "SetTaskStatus("+string(st)+") of a DONE task whose key has an open task")
	}
	wantTasks(t, "tasks after the refused reopenings", before, fx.tasks(acme))

	// Once the other task is closed, the old one may reopen, and the next
	// call refreshes it.
	fx.setStatus(acme, open.ID, taskcreate.StatusDismissed)
	fx.setStatus(acme, done.ID, taskcreate.StatusInProgress)
	res, _ := fx.create(req)
	wantResult(t, "CreateTasks after reopening", res, "run-1", store.Outcome{Updated: 1})
	wantEqual(t, "id of the open task", done.ID, fx.onlyTask(acme, restock, "s1", "v1", taskcreate.StatusInProgress).ID)
}

func testSetStatusRejectsInvalidInput(t *testing.T, s suite) {
	fx, _, task := s.withOneTask(t)
	before := fx.tasks(acme)
	for _, c := range []struct {
		org string
		st  taskcreate.Status
	}{{"", taskcreate.StatusDone}, {" ", taskcreate.StatusDone}, {acme, "CLOSED"}, {acme, ""}, {acme, "done"}} {
		err := fx.store.SetTaskStatus(fx.ctx, c.org, task.ID, c.st)
		wantErrorIs(t, err, taskcreate.ErrInvalidRequest, fmt.Sprintf("SetTaskStatus(%q, %q)", c.org, c.st))
	}
	wantTasks(t, "tasks after invalid SetTaskStatus calls", before, fx.tasks(acme))
}

func testPutUpsertsOnPrimaryKey(t *testing.T, s suite) {
	fx := s.fixture(t)
	fx.put(vector(acme, restock, "s1", "v1", day(1), qty(5), discount(2), confidence(0.9), snapshot(`{"version": 1}`)))
	// The same key, its date given at another hour in another zone.
	sameDay := time.Date(day(1).Year(), day(1).Month(), day(1).Day(), 22, 0, 0, 0, time.FixedZone("UTC-9", -9*3600))
	replacement := vector(acme, restock, "s1", "v1", sameDay, qty(9), noDiscount, noConfidence, snapshot(`{"version": 2}`))
	fx.put(replacement)
	fx.wantCreated("CreateTasks from the replaced row", request(acme, "run-1", 0.95, []taskcreate.Domain{restock}, position("s1", "v1")),
		store.Outcome{Created: 1}, made{replacement, 0})
}

func testPutSamePrimaryKeyTwiceInOneCall(t *testing.T, s suite) {
	fx := s.fixture(t)
	first := vector(acme, restock, "s1", "v1", day(1), qty(5), snapshot(`{"version": 1}`))
	other := vector(acme, restock, "s1", "v2", day(1), qty(6))
	last := vector(acme, restock, "s1", "v1", day(1), qty(7), snapshot(`{"version": 2}`))
	fx.put(first, other, last) // one call: the later row wins
	fx.wantCreated("CreateTasks from the last row of each key",
		request(acme, "run-1", 0, []taskcreate.Domain{restock}, position("s1", "v1"), position("s1", "v2")),
		store.Outcome{Created: 2}, made{last, 0}, made{other, 1})
}

func testPutRejectsInvalidRows(t *testing.T, s suite) {
	fx := s.fixture(t)
	good := vector(acme, restock, "s1", "v-good", day(1))
	bad := func(edit func(*taskcreate.ActionVector)) taskcreate.ActionVector {
		v := vector(acme, restock, "s1", "v-bad", day(1))
		edit(&v)
		return v
	}
	cases := []struct {
		name string
		row  taskcreate.ActionVector
	}{
		{"no snapshot", bad(func(v *taskcreate.ActionVector) { v.Snapshot = nil })},
		{"snapshot that is not JSON", bad(func(v *taskcreate.ActionVector) { v.Snapshot = []byte(`{"a":`) })},
		{"unknown domain", bad(func(v *taskcreate.ActionVector) { v.Domain = "clearance" })},
		{"no snapshot date", bad(func(v *taskcreate.ActionVector) { v.SnapshotDate = time.Time{} })},
		{"snapshot date in year 10000", bad(func(v *taskcreate.ActionVector) { v.SnapshotDate = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"NaN confidence", bad(func(v *taskcreate.ActionVector) { v.Confidence = floatPtr(math.NaN()) })},
		{"infinite discount", bad(func(v *taskcreate.ActionVector) { v.RecommendedDiscountPct = floatPtr(math.Inf(1)) })},
		{"empty shop", bad(func(v *taskcreate.ActionVector) { v.ShopID = "" })},
		{"control character in variant", bad(func(v *taskcreate.ActionVector) { v.VariantID = "v\x7f" })},
		{"organization over 255 bytes", bad(func(v *taskcreate.ActionVector) { v.OrganizationID = strings.Repeat("o", 256) })},
	}
	if math.MaxInt > math.MaxInt32 {
		cases = append(cases, struct {
			name string
			row  taskcreate.ActionVector
		}{"quantity over 32 bits", bad(func(v *taskcreate.ActionVector) { v.RecommendedQty = intPtr(math.MaxInt32 + 1) })})
	}
	for _, c := range cases {
		err := fx.store.PutActionVectors(fx.ctx, []taskcreate.ActionVector{good, c.row})
		wantErrorIs(t, err, taskcreate.ErrInvalidRequest, "PutActionVectors with a row with "+c.name)
	}
	// Nothing was written, not even the good row.
	req := request(acme, "run-1", 0, []taskcreate.Domain{restock}, position("s1", "v-good"))
	res, _ := fx.create(req)
	wantResult(t, "CreateTasks after the rejected rows", res, "run-1", store.Outcome{Unmatched: 1})
	fx.put(good)
	res, _ = fx.create(req)
	wantResult(t, "CreateTasks once the good row is written alone", res, "run-1", store.Outcome{Created: 1})
}

func testPutNothing(t *testing.T, s suite) {
	fx := s.fixture(t)
	noError(t, fx.store.PutActionVectors(fx.ctx, nil), "PutActionVectors(nil)")
	noError(t, fx.store.PutActionVectors(fx.ctx, []taskcreate.ActionVector{}), "PutActionVectors of no rows")
}

func testTimestampsRoundTrip(t *testing.T, s suite) {
	fx := s.fixture(t)
	readings := []time.Time{
		time.Date(2025, 6, 2, 11, 30, 15, 123456789, time.FixedZone("UTC+2", 2*3600)),
		time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 6, 2, 9, 30, 15, 999999999, time.FixedZone("UTC-7", -7*3600)), // truncated, not rounded
		time.Date(2025, 6, 2, 9, 30, 15, 1000, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 500000000, time.UTC),
		time.Date(2099, 1, 1, 0, 0, 0, 10000, time.FixedZone("UTC+5:30", 5*3600+1800)),
		time.Date(2025, 6, 2, 9, 30, 15, 1000, time.Local),
	}
	var rows []taskcreate.ActionVector
	var want []taskcreate.Task
	for i, at := range readings {
		row := vector(acme, restock, "s1", "v"+string(rune('a'+i)), day(1))
		rows = append(rows, row)
		want = append(want, taskFrom(row, sequenceID(uint64(i)), "run-1", taskcreate.PriorityMedium, stamp(at)))
	}
	fx.put(rows...)
	for i, at := range readings {
		res, err := fx.service(at).CreateTasks(fx.ctx, request(acme, "run-1", 0, []taskcreate.Domain{restock}, position("s1", rows[i].VariantID)))
		noError(t, err, "CreateTasks at "+at.String())
		wantResult(t, "CreateTasks at "+at.String(), res, "run-1", store.Outcome{Created: 1})
	}
	wantTasks(t, "tasks created at the readings", want, fx.tasks(acme))

	// An update moves updated_at only.
	var ps []taskcreate.Pair
	for _, row := range rows {
		ps = append(ps, position("s1", row.VariantID))
	}
	update := time.Date(2030, 3, 4, 5, 6, 7, 890123456, time.FixedZone("UTC-3", -3*3600))
	res, err := fx.service(update).CreateTasks(fx.ctx, request(acme, "run-1", 0, []taskcreate.Domain{restock}, ps...))
	noError(t, err, "CreateTasks at "+update.String())
	wantResult(t, "CreateTasks at "+update.String(), res, "run-1", store.Outcome{Updated: len(rows)})
	for i := range want {
		want[i].UpdatedAt = stamp(update)
	}
	wantTasks(t, "tasks updated at "+update.String(), want, fx.tasks(acme))
}

func testMigrateIsIdempotent(t *testing.T, s suite) {
	fx := s.fixture(t)
	fx.put(vector(acme, restock, "s1", "v1", day(1)), vector(acme, markdown, "s1", "v1", day(1)))
	req := request(acme, "run-1", 0, allDomains, position("s1", "v1"))
	fx.create(req)
	before := fx.tasks(acme)
	noError(t, fx.store.Migrate(fx.ctx), "Migrate on a migrated store")
	noError(t, fx.store.Migrate(fx.ctx), "Migrate once more")
	wantTasks(t, "tasks after Migrate", before, fx.tasks(acme))
	res, _ := fx.create(req)
	wantResult(t, "CreateTasks after Migrate", res, "run-1", store.Outcome{Updated: 2, Unmatched: 1})
}
