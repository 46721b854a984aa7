package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/taskcreate"
	"github.com/actionvector/tasks/taskcreate/taskhttp"
)

// replayRequest is the saved task-create body of the replay: a dry run.
var replayRequest = filepath.Join("testdata", "replay_request.json")

// demoOrg is the organization of the export.
const demoOrg = "550e8400-e29b-41d4-a716-446655440001"

// requestBody returns the saved request with its fields changed as
// changes say (a nil value removes the field).
func requestBody(t *testing.T, changes map[string]any) string {
	t.Helper()
	data, err := os.ReadFile(replayRequest)
	require.NoError(t, err)
	var body map[string]any
	require.NoError(t, json.Unmarshal(data, &body))
	for k, v := range changes {
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
	}
	out, err := json.Marshal(body)
	require.NoError(t, err)
	return string(out)
}

// loadExport loads the CSV export into s.
func loadExport(t *testing.T, s testStore) {
	t.Helper()
	r := tasks(t, s.vars, "", "load", exportCSV)
	require.Equal(t, exitOK, r.code, r.stderr)
}

// envelope decodes what create or sweep printed.
func envelope(t *testing.T, stdout string) map[string]any {
	t.Helper()
	require.True(t, strings.HasSuffix(stdout, "}\n"), "one JSON envelope and a newline: %q", stdout)
	var e map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &e), stdout)
	return e
}

// create prints, byte for byte, what the endpoint answers the same body
// on the same data, and exits 0 where the endpoint answers 200 and 2
// where it answers 400: real calls, dry runs, outcomes and invalid bodies
// alike.
func TestCreatePrintsWhatTheEndpointAnswers(t *testing.T) {
	command := sqliteStore(t)
	loadExport(t, command)
	endpoint := sqliteStore(t)
	loadExport(t, endpoint)
	es, err := sqlite.Open(t.Context(), endpoint.vars["TASKS_DB"])
	require.NoError(t, err)
	defer es.Close()
	handler, err := taskhttp.NewHandler(taskcreate.New(es), taskhttp.Options{Token: testToken})
	require.NoError(t, err)

	bodies := []struct{ name, body string }{
		{"dry run with outcomes", requestBody(t, map[string]any{"returnOutcomes": true})},
		{"dry run", requestBody(t, nil)},
		{"real call", requestBody(t, map[string]any{"dryRun": false})},
		{"the same call again", requestBody(t, map[string]any{"dryRun": false})},
		{"retiring stale tasks", requestBody(t, map[string]any{"dryRun": false, "retireStale": true, "workflowRunId": "workflow-run-2"})},
		{"a pinned snapshot", requestBody(t, map[string]any{"snapshotDate": "2026-11-26"})},
		{"missing fields", requestBody(t, map[string]any{"domains": nil, "perimeter": nil})},
		{"bad values", requestBody(t, map[string]any{"minConfidence": 2, "domains": []string{"restock", "clearance"}})},
		{"an unknown field", requestBody(t, map[string]any{"dry_run": true})},
		{"not JSON", `{"organizationId": `},
		{"a bad date", requestBody(t, map[string]any{"snapshotDate": "27/11/2026"})},
	}
	for _, b := range bodies {
		t.Run(b.name, func(t *testing.T) {
			req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, taskhttp.Path, strings.NewReader(b.body))
			req.Header.Set("Authorization", "Bearer "+testToken)
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, req)

			r := tasks(t, command.vars, b.body, "create")
			assert.Equal(t, w.Body.String()+"\n", r.stdout)
			want := map[int]int{http.StatusOK: exitOK, http.StatusBadRequest: exitInvalid}[w.Code]
			assert.Equal(t, want, r.code, "the endpoint answered %d; stderr: %s", w.Code, r.stderr)
			if w.Code != http.StatusOK {
				assert.Contains(t, r.stderr, "tasks create: ", "the error on standard error")
			}
		})
	}
}

// create reads the body from a file, from standard input with "-" and
// without an argument; a dry run reports what the real call then does.
func TestCreateFromAFileAndStandardInput(t *testing.T) {
	onEachStore(t, func(t *testing.T, newStore func(*testing.T) testStore) {
		s := newStore(t)
		loadExport(t, s)
		r := tasks(t, s.vars, "", "create", replayRequest)
		require.Equal(t, exitOK, r.code, r.stderr)
		preview := envelope(t, r.stdout)["data"].(map[string]any)
		assert.Equal(t, taskcreate.SuccessCodeTasksPreviewed, preview["successCode"])
		assert.Zero(t, s.count(t, "tasks", "true"), "a dry run writes nothing")

		r = tasks(t, s.vars, requestBody(t, map[string]any{"dryRun": false}), "create")
		require.Equal(t, exitOK, r.code, r.stderr)
		created := envelope(t, r.stdout)["data"].(map[string]any)
		assert.Equal(t, taskcreate.SuccessCodeTasksCreated, created["successCode"])
		for _, count := range []string{"created", "updated", "suppressed", "skipped", "unmatched"} {
			assert.Equal(t, preview[count], created[count], "the dry run's %s", count)
		}
		assert.Equal(t, created["created"], float64(s.count(t, "tasks", "workflow_run_id = 'workflow-run-uuid-abc123' AND status = 'OPEN'")))

		r = tasks(t, s.vars, requestBody(t, map[string]any{"dryRun": false}), "create", "-")
		require.Equal(t, exitOK, r.code, r.stderr)
		again := envelope(t, r.stdout)["data"].(map[string]any)
		assert.Equal(t, float64(0), again["created"])
		assert.Equal(t, created["created"], again["updated"], "the same call again refreshes what the first created")
	})
}

// sweep dismisses the OPEN tasks a dead run still owns, and those only;
// a second sweep dismisses none.
func TestSweepOfADeadRun(t *testing.T) {
	onEachStore(t, func(t *testing.T, newStore func(*testing.T) testStore) {
		s := newStore(t)
		loadExport(t, s)
		// The dead run creates the tasks of the export's eligible
		// candidates; a live run then refreshes one of them, which
		// becomes its own.
		r := tasks(t, s.vars, requestBody(t, map[string]any{"dryRun": false, "workflowRunId": "workflow-run-dead"}), "create")
		require.Equal(t, exitOK, r.code, r.stderr)
		r = tasks(t, s.vars, requestBody(t, map[string]any{"dryRun": false, "workflowRunId": "workflow-run-live",
			"perimeter": []map[string]string{{"variantId": "variant-uuid-1", "shopId": "shop-uuid-1"}}}), "create")
		require.Equal(t, exitOK, r.code, r.stderr)
		owned := s.count(t, "tasks", "workflow_run_id = 'workflow-run-dead' AND status = 'OPEN'")
		require.Positive(t, owned)

		sweep := func(args ...string) result {
			return tasks(t, s.vars, "", append([]string{"sweep", "-org", demoOrg, "-run", "workflow-run-dead"}, args...)...)
		}
		r = sweep("-dry-run")
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, fmt.Sprintf(`{"success":true,"data":{"dismissed":%d,"successCode":"WORKFLOW_TASKS_PREVIEWED","workflowRunId":"workflow-run-dead"}}`+"\n", owned), r.stdout)
		assert.Equal(t, owned, s.count(t, "tasks", "workflow_run_id = 'workflow-run-dead' AND status = 'OPEN'"), "a dry run dismisses nothing")

		r = sweep()
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, fmt.Sprintf(`{"success":true,"data":{"dismissed":%d,"successCode":"WORKFLOW_TASKS_SWEPT","workflowRunId":"workflow-run-dead"}}`+"\n", owned), r.stdout)
		assert.Equal(t, owned, s.count(t, "tasks", "workflow_run_id = 'workflow-run-dead' AND status = 'DISMISSED'"))
		assert.Equal(t, 1, s.count(t, "tasks", "workflow_run_id = 'workflow-run-live' AND status = 'OPEN'"), "the live run's task stays")

		r = sweep()
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stdout, `"dismissed":0`, "a second sweep dismisses nothing")
	})
}

// A sweep without -run is refused before the store is opened: the
// envelope names the field, the error the flag.
func TestSweepNamesTheMissingFlag(t *testing.T) {
	s := sqliteStore(t)
	r := tasks(t, s.vars, "", "sweep", "-org", demoOrg)
	assert.Equal(t, exitInvalid, r.code)
	assert.Equal(t, "tasks sweep: invalid flags: -run is required\n", r.stderr)
	assert.Equal(t, "MISSING_REQUIRED_FIELD", envelope(t, r.stdout)["errorCode"])
	assert.Contains(t, r.stdout, `"field":"workflowRunId"`)
	assert.NoFileExists(t, s.vars["TASKS_DB"])

	r = tasks(t, with(s.vars, "TASKS_ORG", demoOrg, "TASKS_RUN", "workflow-run-dead"), "", "sweep")
	assert.Equal(t, exitOK, r.code, "-org and -run from the environment: %s", r.stderr)
}

// A PostgreSQL server that refuses connections is a store to retry later:
// every command exits 3, and create prints the endpoint's STORE_BUSY. The
// connection is really refused (port 1 of the loopback), no failure is
// injected.
func TestUnreachableStoreExits3(t *testing.T) {
	vars := map[string]string{databaseURLEnv: "postgres://tasks@127.0.0.1:1/tasks?connect_timeout=2"}
	for _, args := range [][]string{
		{"create", replayRequest},
		{"sweep", "-org", demoOrg, "-run", "workflow-run-dead"},
		{"load", exportCSV},
		{"migrate"},
		{"migrate", "-dry-run"},
		{"version"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := tasks(t, vars, "", args...)
			assert.Equal(t, exitRetry, r.code, r.stderr)
			assert.Contains(t, r.stderr, "connect")
			if args[0] == "create" || args[0] == "sweep" {
				assert.Equal(t, taskhttp.CodeStoreBusy, envelope(t, r.stdout)["errorCode"])
			}
		})
	}
}

// injected is a real store whose MaterializeTasks fails with err: before
// doing anything, or once its work is committed when committed is set, as
// when the connection is lost while the COMMIT's answer is on its way.
type injected struct {
	taskStore
	err       error
	committed bool
}

func (s injected) MaterializeTasks(ctx context.Context, b *store.Batch) (store.Outcome, error) {
	if s.committed {
		if _, err := s.taskStore.MaterializeTasks(ctx, b); err != nil {
			return store.Outcome{}, err
		}
	}
	return store.Outcome{}, s.err
}

// injectFailure makes the stores the commands open fail as f says, until
// the test ends or the function it returns is called.
func injectFailure(t *testing.T, f injected) (restore func()) {
	real := openStore
	restore = func() { openStore = real }
	t.Cleanup(restore)
	openStore = func(ctx context.Context, c storeConfig) (taskStore, string, error) {
		s, name, err := real(ctx, c)
		if err != nil {
			return nil, "", err
		}
		f.taskStore = s
		return f, name, nil
	}
	return restore
}

// The exit statuses of store failures the tests cannot cause for real
// without cutting a connection mid-COMMIT or holding SQLite's lock through
// every retry: they are injected through openStore, as the errors the
// adapters mark them with (store.MarkTransient, store.MarkOutcomeUnknown).
// create prints the endpoint's envelope of each.
func TestInjectedStoreFailures(t *testing.T) {
	tests := []struct {
		name string
		f    injected
		code int
		want string // errorCode
	}{
		{name: "busy through every retry", f: injected{err: store.MarkTransient(errors.New("sqlite: database is locked (5) (SQLITE_BUSY)"))},
			code: exitRetry, want: taskhttp.CodeStoreBusy},
		{name: "outcome unknown", f: injected{err: store.MarkOutcomeUnknown(errors.New("postgres: commit: unexpected EOF")), committed: true},
			code: exitOutcomeUnknown, want: taskhttp.CodeOutcomeUnknown},
		{name: "any other failure", f: injected{err: errors.New("postgres: materialize: ERROR: permission denied for table tasks (SQLSTATE 42501)")},
			code: exitFailure, want: taskhttp.CodeDatabaseError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sqliteStore(t)
			loadExport(t, s)
			injectFailure(t, tt.f)
			r := tasks(t, s.vars, requestBody(t, map[string]any{"dryRun": false}), "create")
			assert.Equal(t, tt.code, r.code, r.stderr)
			assert.Equal(t, tt.want, envelope(t, r.stdout)["errorCode"])
			assert.Contains(t, r.stderr, tt.f.err.Error(), "the store's own words on standard error")
			assert.NotContains(t, r.stdout, tt.f.err.Error(), "and not in the envelope")
		})
	}
	t.Run("outcome unknown, repeated", func(t *testing.T) {
		s := sqliteStore(t)
		loadExport(t, s)
		restore := injectFailure(t, tests[1].f)
		r := tasks(t, s.vars, requestBody(t, map[string]any{"dryRun": false}), "create")
		require.Equal(t, exitOutcomeUnknown, r.code)
		written := s.count(t, "tasks", "true")
		assert.Positive(t, written, "the call's work was committed")
		restore()
		r = tasks(t, s.vars, requestBody(t, map[string]any{"dryRun": false}), "create")
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, float64(written), envelope(t, r.stdout)["data"].(map[string]any)["updated"], "repeating it updates what the first committed")
		assert.Equal(t, written, s.count(t, "tasks", "true"))
	})
}

// A retirement over the budget is refused, 409 at the endpoint: exit 1,
// a failure that retrying does not cure; maxRetireFraction lets it pass.
// The refusal is real: the newest snapshot drops most positions.
func TestRefusedRetirementExits1(t *testing.T) {
	s := sqliteStore(t)
	const positions = 30 // more than taskcreate.RetireGuardMinimum
	header := strings.Join(columnNames(), ",")
	row := func(day string, i int) string {
		return fmt.Sprintf(`%s,variant-%d,shop-1,%s,restock,5,,0.9,{}`, demoOrg, i, day)
	}
	lines := []string{header}
	perimeter := make([]map[string]string, positions)
	for i := range positions {
		lines = append(lines, row("2026-11-26", i))
		perimeter[i] = map[string]string{"variantId": fmt.Sprintf("variant-%d", i), "shopId": "shop-1"}
	}
	r := tasks(t, s.vars, "", "load", writeFile(t, "day1.csv", lines...))
	require.Equal(t, exitOK, r.code, r.stderr)
	call := map[string]any{"dryRun": false, "domains": []string{"restock"}, "perimeter": perimeter, "retireStale": true}
	r = tasks(t, s.vars, requestBody(t, call), "create")
	require.Equal(t, exitOK, r.code, r.stderr)
	r = tasks(t, s.vars, "", "load", writeFile(t, "day2.csv", header, row("2026-11-27", 0)))
	require.Equal(t, exitOK, r.code, r.stderr)

	r = tasks(t, s.vars, requestBody(t, with(call, "workflowRunId", "workflow-run-2")), "create")
	assert.Equal(t, exitFailure, r.code, r.stderr)
	e := envelope(t, r.stdout)
	assert.Equal(t, taskhttp.CodeRetireBudgetExceeded, e["errorCode"])
	assert.Equal(t, map[string]any{"wouldRetire": float64(positions - 1), "open": float64(positions), "budget": 0.5}, e["retire"])
	assert.Equal(t, positions, s.count(t, "tasks", "status = 'OPEN'"), "nothing was retired")

	r = tasks(t, s.vars, requestBody(t, with(call, "workflowRunId", "workflow-run-2", "maxRetireFraction", 1)), "create")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, float64(positions-1), envelope(t, r.stdout)["data"].(map[string]any)["retired"])
}

// A file that is not a database is a store failure: exit 1.
func TestNotADatabaseExits1(t *testing.T) {
	path := writeFile(t, "notes.db", strings.Repeat("not a database\n", 100))
	for _, args := range [][]string{{"migrate"}, {"version"}, {"load", exportCSV}, {"create", replayRequest}} {
		r := tasks(t, map[string]string{"TASKS_DB": path}, "", args...)
		assert.Equal(t, exitFailure, r.code, "%v: %s", args, r.stderr)
		assert.Contains(t, r.stderr, "file is not a database", "%v", args)
	}
}
