package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// The suite asserts with these few helpers instead of testify, so adapters
// that import it take on no test dependency. Each says what was checked,
// what was wanted and what was got.

// noError stops the test if err is not nil.
func noError(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// wantErrorIs stops the test unless errors.Is(err, target).
func wantErrorIs(t *testing.T, err, target error, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: want an error matching %q, got nil", what, target)
	}
	if !errors.Is(err, target) {
		t.Fatalf("%s: want an error matching %q, got %v", what, target, err)
	}
}

// wantEqual stops the test if got differs from want.
func wantEqual[T comparable](t *testing.T, what string, want, got T) {
	t.Helper()
	if want != got {
		t.Fatalf("%s: want %v, got %v", what, want, got)
	}
}

// wantResult stops the test unless res is the successful result of run with
// the counts of want.
func wantResult(t *testing.T, what string, res taskcreate.Result, run string, want store.Outcome) {
	t.Helper()
	if msg := resultDiff(res, run, want); msg != "" {
		t.Fatalf("%s: %s", what, msg)
	}
}

// resultDiff describes how res differs from the successful result of run
// with the counts of want, or returns "".
func resultDiff(res taskcreate.Result, run string, want store.Outcome) string {
	return resultDiffCode(res, run, taskcreate.SuccessCodeTasksCreated, want)
}

// resultDiffCode is resultDiff for a result whose success code is code.
func resultDiffCode(res taskcreate.Result, run, code string, want store.Outcome) string {
	got := outcomeOf(res)
	var d []string
	if formatOutcome(got) != formatOutcome(want) {
		d = append(d, fmt.Sprintf("counts: want %s, got %s", formatOutcome(want), formatOutcome(got)))
	}
	if res.WorkflowRunID != run {
		d = append(d, fmt.Sprintf("WorkflowRunID: want %q, got %q", run, res.WorkflowRunID))
	}
	if res.SuccessCode != code {
		d = append(d, fmt.Sprintf("SuccessCode: want %q, got %q", code, res.SuccessCode))
	}
	return strings.Join(d, "; ")
}

func outcomeOf(res taskcreate.Result) store.Outcome {
	return store.Outcome{Created: res.Created, Updated: res.Updated, Suppressed: res.Suppressed,
		Skipped: res.Skipped, Unmatched: res.Unmatched, Retired: res.Retired}
}

// formatOutcome prints the counts of o, and so compares them.
func formatOutcome(o store.Outcome) string {
	return fmt.Sprintf("{created %d, updated %d, suppressed %d, skipped %d, unmatched %d, retired %d}",
		o.Created, o.Updated, o.Suppressed, o.Skipped, o.Unmatched, o.Retired)
}

// outcomesDiff describes how got differs from want, or returns "".
func outcomesDiff(want, got []taskcreate.CandidateOutcome) string {
	if len(want) != len(got) {
		return fmt.Sprintf("want %d outcomes, got %d: %v", len(want), len(got), got)
	}
	var d []string
	for i := range want {
		if want[i] != got[i] {
			d = append(d, fmt.Sprintf("outcome %d: want %+v, got %+v", i, want[i], got[i]))
		}
	}
	return strings.Join(d, "\n")
}

// wantTasks stops the test unless got holds exactly the tasks of want, in the
// same order, every field equal (see taskDiff).
func wantTasks(t *testing.T, what string, want, got []taskcreate.Task) {
	t.Helper()
	if msg := tasksDiff(want, got); msg != "" {
		t.Fatalf("%s: task lists differ:\n%s", what, msg)
	}
}

// wantKeys stops the test unless tasks are exactly one per key of keys
// ("domain/shop/variant"), in that order.
func wantKeys(t *testing.T, tasks []taskcreate.Task, keys ...string) {
	t.Helper()
	got := make([]string, len(tasks))
	for i, task := range tasks {
		got[i] = string(task.Domain) + "/" + task.ShopID + "/" + task.VariantID
	}
	if !slices.Equal(got, keys) {
		t.Fatalf("task keys: want %q, got %q", keys, got)
	}
}

// tasksDiff describes how got differs from want, or returns "".
func tasksDiff(want, got []taskcreate.Task) string {
	var b strings.Builder
	if len(want) != len(got) {
		fmt.Fprintf(&b, "want %d tasks, got %d\n", len(want), len(got))
		listTasks(&b, "want", want)
		listTasks(&b, "got", got)
		return b.String()
	}
	shown := 0
	for i := range want {
		d := taskDiff(want[i], got[i])
		if len(d) == 0 {
			continue
		}
		if shown == 10 {
			b.WriteString("  (more differences not shown)\n")
			break
		}
		shown++
		fmt.Fprintf(&b, "  [%d] want %s\n       %s\n", i, describeTask(want[i]), strings.Join(d, "\n       "))
	}
	return b.String()
}

func listTasks(b *strings.Builder, label string, tasks []taskcreate.Task) {
	for i, t := range tasks {
		if i == 20 {
			fmt.Fprintf(b, "  %s: ... and %d more\n", label, len(tasks)-i)
			return
		}
		fmt.Fprintf(b, "  %s[%d]: %s\n", label, i, describeTask(t))
	}
}

// describeTask is a one-line summary of t for failure messages.
func describeTask(t taskcreate.Task) string {
	return fmt.Sprintf("%s/%s/%q/%q %s %s run=%q id=%s created=%s updated=%s",
		t.OrganizationID, t.Domain, t.ShopID, t.VariantID, t.Status, t.Priority, t.WorkflowRunID, t.ID,
		formatTime(t.CreatedAt), formatTime(t.UpdatedAt))
}

// taskDiff lists the fields in which got differs from want. Evidence is
// compared as JSON values, since a store may re-format it (PostgreSQL jsonb
// does); times must be equal instants in UTC.
func taskDiff(want, got taskcreate.Task) []string {
	var d []string
	field := func(name string, w, g any) {
		if w != g {
			d = append(d, fmt.Sprintf("%s: want %v, got %v", name, w, g))
		}
	}
	field("ID", want.ID, got.ID)
	field("OrganizationID", strconv.Quote(want.OrganizationID), strconv.Quote(got.OrganizationID))
	field("Domain", want.Domain, got.Domain)
	field("ShopID", strconv.Quote(want.ShopID), strconv.Quote(got.ShopID))
	field("VariantID", strconv.Quote(want.VariantID), strconv.Quote(got.VariantID))
	field("Status", want.Status, got.Status)
	field("Priority", want.Priority, got.Priority)
	field("WorkflowRunID", strconv.Quote(want.WorkflowRunID), strconv.Quote(got.WorkflowRunID))
	if msg := timeDiff(want.SnapshotDate, got.SnapshotDate); msg != "" {
		d = append(d, "SnapshotDate: "+msg)
	}
	field("RecommendedQty", formatInt(want.RecommendedQty), formatInt(got.RecommendedQty))
	field("RecommendedDiscountPct", formatFloat(want.RecommendedDiscountPct), formatFloat(got.RecommendedDiscountPct))
	field("Confidence", formatFloat(want.Confidence), formatFloat(got.Confidence))
	if !jsonEqual(want.Evidence, got.Evidence) {
		d = append(d, fmt.Sprintf("Evidence: want %s, got %s", want.Evidence, got.Evidence))
	}
	if msg := timeDiff(want.CreatedAt, got.CreatedAt); msg != "" {
		d = append(d, "CreatedAt: "+msg)
	}
	if msg := timeDiff(want.UpdatedAt, got.UpdatedAt); msg != "" {
		d = append(d, "UpdatedAt: "+msg)
	}
	return d
}

// timeDiff reports how got differs from want: another instant, or the same
// instant outside UTC (stores return every time in UTC).
func timeDiff(want, got time.Time) string {
	switch {
	case !got.Equal(want):
		return fmt.Sprintf("want %s, got %s", formatTime(want), formatTime(got))
	case got.Location() != time.UTC:
		return fmt.Sprintf("want it in UTC, got location %q (%s)", got.Location(), got.Format(time.RFC3339Nano))
	}
	return ""
}

func formatTime(t time.Time) string { return t.Format("2006-01-02T15:04:05.000000000Z07:00") }

func formatInt(p *int) string {
	if p == nil {
		return "NULL"
	}
	return strconv.Itoa(*p)
}

func formatFloat(p *float64) string {
	if p == nil {
		return "NULL"
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}

// jsonEqual reports whether a and b hold the same JSON value, whatever their
// spacing, key order or number spelling.
func jsonEqual(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}
