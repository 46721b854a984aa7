package storetest

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
	"github.com/google/uuid"
)

// These tests check the suite's own pure parts: the model, the id source
// and the comparisons every case relies on.

func TestSequenceIDsAreUniqueSortedUUIDv7s(t *testing.T) {
	prev := sequenceID(0)
	for n := uint64(1); n < 5000; n++ {
		id := sequenceID(n)
		if id.Version() != 7 || id.Variant() != uuid.RFC4122 {
			t.Fatalf("sequenceID(%d) = %s: want version 7, RFC 9562 variant; got version %d, variant %v", n, id, id.Version(), id.Variant())
		}
		if bytes.Compare(prev[:], id[:]) >= 0 {
			t.Fatalf("sequenceID(%d) = %s does not sort after sequenceID(%d) = %s", n, id, n-1, prev)
		}
		prev = id
	}
}

func TestIDListsAreInByteOrder(t *testing.T) {
	for _, ids := range [][]string{shopsInByteOrder, variantsInByteOrder} {
		if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
			t.Errorf("%q is not strictly ascending in byte order", ids)
		}
	}
}

func TestJSONEqual(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{`{"a":1,"b":[true,null]}`, `{ "b" : [ true, null ], "a" : 1.0 }`, true},
		{`{"k": 1.5e2}`, `{"k":150}`, true},
		{`"caf\u00e9"`, `"café"`, true},
		{`{"a":1}`, `{"a":2}`, false},
		{`[1,2]`, `[2,1]`, false},
		{`{"a":1}`, `{"a":1`, false},
	} {
		if got := jsonEqual([]byte(c.a), []byte(c.b)); got != c.want {
			t.Errorf("jsonEqual(%s, %s) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestTaskDiff(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	want := taskFrom(vector(acme, restock, "s1", "v1", day(1)), sequenceID(1), "run-1", taskcreate.PriorityMedium, at)

	same := want
	same.Evidence = []byte(" " + string(want.Evidence) + "\n")
	same.RecommendedQty = intPtr(*want.RecommendedQty) // another pointer, same value
	if d := taskDiff(want, same); len(d) > 0 {
		t.Errorf("taskDiff of equal tasks: want no difference, got %q", d)
	}

	other := want
	other.CreatedAt = at.In(time.FixedZone("UTC+1", 3600))
	other.RecommendedQty = nil
	other.Confidence = floatPtr(0.5)
	d := strings.Join(taskDiff(want, other), "\n")
	for _, field := range []string{"CreatedAt: want it in UTC", "RecommendedQty: want 3, got NULL", "Confidence: want 0.8, got 0.5"} {
		if !strings.Contains(d, field) {
			t.Errorf("taskDiff: want a difference %q, got %q", field, d)
		}
	}
}

func TestModelAppliesTheRules(t *testing.T) {
	m := newModel()
	m.putVectors([]taskcreate.ActionVector{
		vector(acme, restock, "s1", "v1", day(1), qty(9)), // older than the latest restock snapshot
		vector(acme, restock, "s1", "v2", day(2)),
		vector(acme, restock, "s1", "v3", day(2), confidence(0.5)), // equal to the threshold
		vector(acme, restock, "s1", "v4", day(2), confidence(0.49)),
		vector(acme, restock, "s1", "v5", day(2), noConfidence, noQty),
		vector(acme, markdown, "s1", "v1", day(1), noConfidence),
		vector(globex, markdown, "s1", "v2", day(9)),
	})
	req := request(acme, "run-1", 0.5, allDomains,
		position("s1", "v5"), position("s1", "v4"), position("s1", "v3"), position("s1", "v2"), position("s1", "v1"), position("s1", "v1"))
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	proposed := func(i int) uuid.UUID { return sequenceID(uint64(i)) }

	got, _, _ := m.createTasks(req, taskcreate.PriorityHigh, at, proposed, taskcreate.DefaultRetireBudget)
	want := store.Outcome{Created: 3, Suppressed: 1, Skipped: 1, Unmatched: 10}
	if formatOutcome(got) != formatOutcome(want) {
		t.Fatalf("first call: want %s, got %s", formatOutcome(want), formatOutcome(got))
	}
	wantKeys(t, m.listTasks(taskcreate.TaskFilter{OrganizationID: acme}), "markdown/s1/v1", "restock/s1/v2", "restock/s1/v3")
	// Candidates: markdown 0-4, rebalance 5-9, restock 10-14, pairs v1..v5.
	ids := []uuid.UUID{}
	for _, task := range m.listTasks(taskcreate.TaskFilter{OrganizationID: acme}) {
		ids = append(ids, task.ID)
	}
	if !slices.Equal(ids, []uuid.UUID{sequenceID(0), sequenceID(11), sequenceID(12)}) {
		t.Errorf("ids of the created tasks: got %v", ids)
	}

	// DONE is history: the next call creates beside it and updates the rest.
	if _, err := m.setTaskStatus(acme, sequenceID(11), taskcreate.StatusDone); err != nil {
		t.Fatal(err)
	}
	req.MinConfidence = 0
	later := at.Add(time.Hour)
	got, _, _ = m.createTasks(req, taskcreate.PriorityLow, later, func(i int) uuid.UUID { return sequenceID(100 + uint64(i)) }, taskcreate.DefaultRetireBudget)
	want = store.Outcome{Created: 2, Updated: 2, Skipped: 1, Unmatched: 10}
	if formatOutcome(got) != formatOutcome(want) {
		t.Fatalf("second call: want %s, got %s", formatOutcome(want), formatOutcome(got))
	}
	open := m.listTasks(taskcreate.TaskFilter{OrganizationID: acme, Statuses: []taskcreate.Status{taskcreate.StatusOpen}})
	wantKeys(t, open, "markdown/s1/v1", "restock/s1/v2", "restock/s1/v3", "restock/s1/v4")
	if open[0].Priority != taskcreate.PriorityHigh || !open[0].CreatedAt.Equal(at) || !open[0].UpdatedAt.Equal(later) {
		t.Errorf("updated task: want priority HIGH, created %v, updated %v; got %s", at, later, describeTask(open[0]))
	}
	if open[1].ID != sequenceID(111) || open[1].Priority != taskcreate.PriorityLow {
		t.Errorf("task created beside the DONE one: want id %s, priority LOW; got %s", sequenceID(111), describeTask(open[1]))
	}
}

func TestModelSetTaskStatus(t *testing.T) {
	m := newModel()
	m.putVectors([]taskcreate.ActionVector{vector(acme, restock, "s1", "v1", day(1))})
	req := request(acme, "run-1", 0, []taskcreate.Domain{restock}, position("s1", "v1"))
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	m.createTasks(req, taskcreate.PriorityMedium, at, func(int) uuid.UUID { return sequenceID(1) }, taskcreate.DefaultRetireBudget)
	if _, err := m.setTaskStatus(acme, sequenceID(1), taskcreate.StatusDone); err != nil {
		t.Fatal(err)
	}
	m.createTasks(req, taskcreate.PriorityMedium, at, func(int) uuid.UUID { return sequenceID(2) }, taskcreate.DefaultRetireBudget)

	for _, c := range []struct {
		org  string
		id   uuid.UUID
		st   taskcreate.Status
		want error
	}{
		{globex, sequenceID(1), taskcreate.StatusDismissed, taskcreate.ErrTaskNotFound},
		{acme, sequenceID(3), taskcreate.StatusDismissed, taskcreate.ErrTaskNotFound},
		{acme, sequenceID(1), taskcreate.StatusInProgress, taskcreate.ErrOpenTaskExists},
		{acme, sequenceID(2), taskcreate.StatusInProgress, nil},
		{acme, sequenceID(1), taskcreate.StatusDismissed, nil},
	} {
		if _, err := m.setTaskStatus(c.org, c.id, c.st); !errors.Is(err, c.want) {
			t.Errorf("setTaskStatus(%q, %s, %s): want %v, got %v", c.org, c.id, c.st, c.want, err)
		}
	}
}

// The lifecycle rules, on the model itself: a hand-made case whose answer
// is worked out in the comments.
func TestModelLifecycle(t *testing.T) {
	m := newModel()
	m.putVectors([]taskcreate.ActionVector{
		vector(acme, restock, "s1", "v1", day(1)),
		vector(acme, restock, "s1", "v2", day(1)),
		vector(acme, restock, "s1", "v3", day(1)),
		vector(acme, restock, "s1", "v4", day(1)),
	})
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	all := request(acme, "run-1", 0, []taskcreate.Domain{restock},
		position("s1", "v1"), position("s1", "v2"), position("s1", "v3"), position("s1", "v4"))
	m.createTasks(all, taskcreate.PriorityMedium, at, func(i int) uuid.UUID { return sequenceID(uint64(i)) }, taskcreate.DefaultRetireBudget)
	if _, err := m.setTaskStatus(acme, sequenceID(2), taskcreate.StatusInProgress); err != nil {
		t.Fatal(err)
	}
	// The next snapshot: v1 suppressed, v2 skipped, v3 unmatched (its task
	// in progress), v4 still recommended.
	m.putVectors([]taskcreate.ActionVector{
		vector(acme, restock, "s1", "v1", day(2), confidence(0.1)),
		vector(acme, restock, "s1", "v2", day(2), qty(0)),
		vector(acme, restock, "s1", "v4", day(2)),
	})
	retire := all
	retire.WorkflowRunID, retire.MinConfidence, retire.RetireStale = "run-2", 0.5, true
	later := at.Add(time.Hour)
	wantOutcomes := []taskcreate.CandidateOutcome{
		{Domain: restock, ShopID: "s1", VariantID: "v1", Outcome: taskcreate.OutcomeSuppressed, TaskID: sequenceID(0), Retired: true},
		{Domain: restock, ShopID: "s1", VariantID: "v2", Outcome: taskcreate.OutcomeSkipped, TaskID: sequenceID(1), Retired: true},
		{Domain: restock, ShopID: "s1", VariantID: "v3", Outcome: taskcreate.OutcomeUnmatched},
		{Domain: restock, ShopID: "s1", VariantID: "v4", Outcome: taskcreate.OutcomeUpdated, TaskID: sequenceID(3)},
	}
	dry := retire
	dry.DryRun = true
	before := slices.Clone(m.tasks)
	got, outcomes, _ := m.createTasks(dry, taskcreate.PriorityMedium, later, func(i int) uuid.UUID { return sequenceID(10 + uint64(i)) }, taskcreate.DefaultRetireBudget)
	want := store.Outcome{Updated: 1, Suppressed: 1, Skipped: 1, Unmatched: 1, Retired: 2}
	if formatOutcome(got) != formatOutcome(want) {
		t.Fatalf("dry run: want %s, got %s", formatOutcome(want), formatOutcome(got))
	}
	if msg := outcomesDiff(wantOutcomes, outcomes); msg != "" {
		t.Errorf("dry run outcomes:\n%s", msg)
	}
	if msg := tasksDiff(before, m.tasks); msg != "" {
		t.Errorf("a dry run changed the tasks:\n%s", msg)
	}

	got, outcomes, _ = m.createTasks(retire, taskcreate.PriorityMedium, later, func(i int) uuid.UUID { return sequenceID(20 + uint64(i)) }, taskcreate.DefaultRetireBudget)
	if formatOutcome(got) != formatOutcome(want) {
		t.Fatalf("retiring call: want %s, got %s", formatOutcome(want), formatOutcome(got))
	}
	if msg := outcomesDiff(wantOutcomes, outcomes); msg != "" {
		t.Errorf("retiring call outcomes:\n%s", msg)
	}
	for _, task := range m.tasks {
		wantStatus, wantRun := taskcreate.StatusDismissed, "run-2"
		switch task.VariantID {
		case "v3":
			wantStatus, wantRun = taskcreate.StatusInProgress, "run-1"
		case "v4":
			wantStatus = taskcreate.StatusOpen
		}
		if task.Status != wantStatus || task.WorkflowRunID != wantRun || !task.UpdatedAt.Equal(later) && task.VariantID != "v3" {
			t.Errorf("after retiring: want %s of %s at %v, got %s", wantStatus, wantRun, later, describeTask(task))
		}
	}

	// The sweep of run-2 dismisses v4, its one OPEN task; a second finds none.
	sweep := taskcreate.SweepRequest{OrganizationID: acme, WorkflowRunID: "run-2"}
	if n := m.sweepRun(taskcreate.SweepRequest{OrganizationID: acme, WorkflowRunID: "run-2", DryRun: true}, later); n != 1 {
		t.Errorf("dry sweep: want 1, got %d", n)
	}
	if n := m.sweepRun(sweep, later); n != 1 {
		t.Errorf("sweep: want 1, got %d", n)
	}
	if n := m.sweepRun(sweep, later); n != 0 {
		t.Errorf("second sweep: want 0, got %d", n)
	}
}
