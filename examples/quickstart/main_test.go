package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestQuickstart(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(t.Context(), dir, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"run workflow-run-uuid-abc123: created 3, updated 0, suppressed 2, skipped 2, unmatched 14 (WORKFLOW_TASKS_CREATED)",
		"run workflow-run-uuid-def456: created 0, updated 3, suppressed 2, skipped 2, unmatched 14 (WORKFLOW_TASKS_CREATED)",
		"run workflow-run-uuid-ghi789 (dry run): created 0, updated 2, suppressed 2, skipped 2, unmatched 15, retired 1 (WORKFLOW_TASKS_PREVIEWED)",
		"run workflow-run-uuid-ghi789: created 0, updated 2, suppressed 2, skipped 2, unmatched 15, retired 1 (WORKFLOW_TASKS_CREATED)",
		"3 tasks:",
		"run workflow-run-uuid-mno345 (dry run): refused, it would retire 30 of 40 open tasks (budget 0.5); nothing written",
		"run workflow-run-uuid-mno345: refused, it would retire 30 of 40 open tasks (budget 0.5); nothing written",
		"once it is whole, run workflow-run-uuid-mno345: updated 40, retired 0",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// Two tasks stay open, refreshed by the last run; the third is retired,
	// by that run too.
	if got := strings.Count(out.String(), "OPEN       MEDIUM"); got != 2 {
		t.Errorf("want 2 open tasks, found %d:\n%s", got, out.String())
	}
	if got := strings.Count(out.String(), "2026-11-27  workflow-run-uuid-ghi789"); got != 3 {
		t.Errorf("want 3 tasks owned by the last run, holding the 11-27 recommendation, found %d:\n%s", got, out.String())
	}
	if !strings.Contains(out.String(), "DISMISSED") {
		t.Errorf("no retired task:\n%s", out.String())
	}
	if strings.Contains(out.String(), "2026-11-26") {
		t.Errorf("a task holds the older snapshot:\n%s", out.String())
	}

	// Running again on the same database, where the newer snapshot already
	// is, creates only the task the retirement left to be created anew:
	// none, since its candidate is still skipped.
	out.Reset()
	if err := run(t.Context(), dir, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "run workflow-run-uuid-abc123: created 0, updated 2,") {
		t.Errorf("second run on the same database created tasks:\n%s", out.String())
	}
}
