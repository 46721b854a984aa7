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
		"3 open tasks:",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// The three tasks belong to the second run and hold the latest snapshot only.
	if got := strings.Count(out.String(), "2026-11-27  workflow-run-uuid-def456"); got != 3 {
		t.Errorf("want 3 tasks refreshed by the second run, found %d:\n%s", got, out.String())
	}
	if strings.Contains(out.String(), "2026-11-26") {
		t.Errorf("a task holds the older snapshot:\n%s", out.String())
	}

	// Running again on the same database only refreshes.
	out.Reset()
	if err := run(t.Context(), dir, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "run workflow-run-uuid-abc123: created 0, updated 3,") {
		t.Errorf("second run on the same database created tasks:\n%s", out.String())
	}
}
