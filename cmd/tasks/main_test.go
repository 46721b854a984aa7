package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// result is what one run of the command did.
type result struct {
	code           int
	stdout, stderr string
}

// tasks runs the command in-process as "tasks args...", with stdin, in the
// environment vars alone, and returns what it did.
func tasks(t *testing.T, vars map[string]string, stdin string, args ...string) result {
	t.Helper()
	return tasksWith(t.Context(), vars, strings.NewReader(stdin), args...)
}

// tasksWith is tasks with a context and a reader of its own.
func tasksWith(ctx context.Context, vars map[string]string, stdin io.Reader, args ...string) result {
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, stdin, &stdout, &stderr, env(vars))
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// testStore is a database the tests run the command on.
type testStore struct {
	vars   map[string]string // the environment that names it to the command
	db     *sql.DB           // to look at what the command wrote
	prefix string            // of its tables' names
}

// table returns the qualified name of the store's table name.
func (s testStore) table(name string) string { return s.prefix + name }

// count returns the number of rows of the store's table that match where.
func (s testStore) count(t *testing.T, table, where string) int {
	t.Helper()
	var n int
	require.NoError(t, s.db.QueryRowContext(t.Context(), "SELECT count(*) FROM "+s.table(table)+" WHERE "+where).Scan(&n))
	return n
}

// sqliteStore returns a store in a SQLite file of the test's own, which
// the command creates.
func sqliteStore(t *testing.T) testStore {
	path := filepath.Join(t.TempDir(), "tasks.db")
	db, err := sql.Open("sqlite", path) // connects at the first query: the file is not created before
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return testStore{vars: map[string]string{"TASKS_DB": path}, db: db}
}

// postgresStore returns a store in a PostgreSQL schema of the test's own,
// named in DATABASE_URL as the search path; without
// TASKS_TEST_POSTGRES_URL the test skips.
func postgresStore(t *testing.T) testStore {
	url, schema, db := postgresSchema(t)
	return testStore{vars: map[string]string{databaseURLEnv: url}, db: db, prefix: schema + "."}
}

// onEachStore runs test on SQLite and on PostgreSQL, with a function
// that returns a new, empty store of that kind.
func onEachStore(t *testing.T, test func(t *testing.T, newStore func(*testing.T) testStore)) {
	t.Run("sqlite", func(t *testing.T) { test(t, sqliteStore) })
	t.Run("postgres", func(t *testing.T) { test(t, postgresStore) })
}

// with returns a copy of m with the keys and values of more, pairs of a
// key and a value, set.
func with[V any](m map[string]V, more ...any) map[string]V {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]V{}
	}
	for i := 0; i+1 < len(more); i += 2 {
		out[more[i].(string)] = more[i+1].(V)
	}
	return out
}

// Usage errors exit 2, help exits 0, and both say what the commands and
// the exit statuses are.
func TestUsage(t *testing.T) {
	exportTXT := writeFile(t, "export.txt", "organization_id")
	tests := []struct {
		name     string
		args     []string
		vars     map[string]string // the whole environment
		code     int
		inStdout []string
		inStderr []string
	}{
		{name: "no command", code: exitInvalid, inStderr: []string{"usage: tasks <command>", "sweep", "Exit status:"}},
		{name: "help", args: []string{"-h"}, code: exitOK, inStdout: []string{"migrate", "serve", "load", "create", "sweep", "version", "TASKS_MAX_CALLS", "DATABASE_URL", "4 the outcome is unknown"}},
		{name: "unknown command", args: []string{"purge"}, code: exitInvalid, inStderr: []string{`unknown command "purge"`, "usage: tasks"}},
		{name: "unknown flag", args: []string{"load", "-rows", "5", "x.csv"}, code: exitInvalid, inStderr: []string{"tasks load: flag provided but not defined: -rows", "tasks load -h"}},
		{name: "stray argument", args: []string{"sweep", "-org", "o", "-run", "r", "now"}, code: exitInvalid, inStderr: []string{`unexpected arguments ["now"]`}},
		{name: "bad flag value", args: []string{"load", "-batch", "many", "x.csv"}, code: exitInvalid, inStderr: []string{`invalid value "many" for flag -batch`}},
		{name: "batch below 1", args: []string{"load", "-batch", "0", "x.csv"}, code: exitInvalid, inStderr: []string{"-batch: 0 is below 1"}},
		{name: "no input", args: []string{"load"}, code: exitInvalid, inStderr: []string{"no input"}},
		{name: "unknown format", args: []string{"load", exportTXT}, code: exitInvalid, inStderr: []string{"export.txt: cannot tell the format", "-format"}},
		{name: "format unknown to -format", args: []string{"load", "-format", "xlsx", exportCSV}, code: exitInvalid, inStderr: []string{`-format: "xlsx" is neither csv nor jsonl`}},
		{name: "standard input without a format", args: []string{"load", "-"}, code: exitInvalid, inStderr: []string{"give -format csv"}},
		{name: "missing file", args: []string{"create", "no-such-request.json"}, code: exitInvalid, inStderr: []string{"no-such-request.json", "no such file"}},
		{name: "citus on SQLite", args: []string{"migrate", "-citus"}, code: exitInvalid, inStderr: []string{"-citus applies to PostgreSQL only"}},
		{name: "table name on SQLite", args: []string{"version", "-tasks-table", "work.tasks"}, code: exitInvalid, inStderr: []string{"-tasks-table applies to PostgreSQL only"}},
		{name: "invalid table name", args: []string{"version", "-database-url", "postgres://127.0.0.1:1/x", "-action-vector-table", "gold-lakebase.action_vector"},
			code: exitInvalid, inStderr: []string{"-action-vector-table:", `"gold-lakebase" is not a plain identifier`}},
		{name: "bad environment value", args: []string{"load", "x.csv"}, vars: map[string]string{"TASKS_BATCH": "ten"},
			code: exitInvalid, inStderr: []string{"environment variable TASKS_BATCH (for -batch)", `"ten"`}},
		{name: "bad boolean in the environment", args: []string{"migrate"}, vars: map[string]string{"TASKS_DRY_RUN": "maybe"},
			code: exitInvalid, inStderr: []string{"environment variable TASKS_DRY_RUN"}},
		{name: "serve's flags in the environment", args: []string{"serve"}, vars: map[string]string{"TASKS_MAX_CALLS": "lots", tokenEnv: testToken},
			code: exitInvalid, inStderr: []string{"environment variable TASKS_MAX_CALLS (for -max-calls)"}},
		{name: "serve without a token", args: []string{"serve", "-db", ":memory:"}, code: exitInvalid, inStderr: []string{"TASKS_INTERNAL_TOKEN is not set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tasks(t, tt.vars, "", tt.args...)
			assert.Equal(t, tt.code, r.code, "exit status; stderr:\n%s", r.stderr)
			for _, want := range tt.inStdout {
				assert.Contains(t, r.stdout, want)
			}
			for _, want := range tt.inStderr {
				assert.Contains(t, r.stderr, want)
			}
		})
	}
}

// Every command's -h lists its flags with the variables they fall back
// to, and the exit statuses, on standard output, and exits 0.
func TestHelpOfEachCommand(t *testing.T) {
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			r := tasks(t, nil, "", c.name, "-h")
			require.Equal(t, exitOK, r.code, r.stderr)
			assert.Contains(t, r.stdout, "usage: tasks "+c.name)
			assert.Contains(t, r.stdout, "-db file\n")
			assert.Contains(t, r.stdout, "[$TASKS_DB]")
			assert.Contains(t, r.stdout, "[$TASKS_DATABASE_URL, $DATABASE_URL]")
			assert.Contains(t, r.stdout, "3 the store is busy")
			assert.Empty(t, r.stderr)
		})
	}
	r := tasks(t, nil, "", "load", "-h")
	assert.Contains(t, r.stdout, "the batches before it stay written", "load's help says what a failed load leaves")
	assert.Contains(t, r.stdout, "(default 5000) [$TASKS_BATCH]")
	r = tasks(t, nil, "", "serve", "-h")
	for _, name := range []string{"addr", "admin-addr", "max-calls", "max-conns", "max-inflight-bytes", "demo", "shutdown-timeout"} {
		assert.Regexp(t, `(?m)^  -`+name+`( |$)`, r.stdout, "serve keeps its flags")
		assert.Contains(t, r.stdout, "$TASKS_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_")), "in the same scheme")
	}
}

// A flag given wins over its variable, which wins over the default, here
// for -db and -batch; -database-url falls back to TASKS_DATABASE_URL
// before DATABASE_URL.
func TestFlagsFallBackToTheEnvironment(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		csvFile, err := filepath.Abs(filepath.Join("testdata", "action_vectors.csv"))
		require.NoError(t, err)
		dir := t.TempDir()
		t.Chdir(dir) // where the default, tasks.db, goes
		fromEnv, fromFlag := filepath.Join(dir, "env.db"), filepath.Join(dir, "flag.db")

		r := tasks(t, map[string]string{"TASKS_DB": fromEnv, "TASKS_BATCH": "2"}, "", "load", csvFile)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, "loaded 6 action vectors in 3 batches\n", r.stdout, "-batch from TASKS_BATCH")
		assert.FileExists(t, fromEnv)

		r = tasks(t, map[string]string{"TASKS_DB": fromEnv, "TASKS_BATCH": "2"}, "", "load", "-db", fromFlag, "-batch", "4", csvFile)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, "loaded 6 action vectors in 2 batches\n", r.stdout, "-batch given")
		assert.FileExists(t, fromFlag)

		assert.NoFileExists(t, filepath.Join(dir, "tasks.db"))
		r = tasks(t, nil, "", "load", csvFile)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, "loaded 6 action vectors in 1 batch\n", r.stdout, "the default -batch")
		assert.FileExists(t, filepath.Join(dir, "tasks.db"), "the default -db")
	})
	t.Run("postgres", func(t *testing.T) {
		s := postgresStore(t)
		url := s.vars[databaseURLEnv]
		refused := "postgres://tasks@127.0.0.1:1/tasks?connect_timeout=2"
		unused := filepath.Join(t.TempDir(), "unused.db")
		for name, vars := range map[string]map[string]string{
			"DATABASE_URL":       {databaseURLEnv: url},
			"TASKS_DATABASE_URL": {"TASKS_DATABASE_URL": url, databaseURLEnv: refused},
		} {
			r := tasks(t, vars, "", "migrate", "-db", unused)
			assert.Equal(t, exitOK, r.code, "%s: %s", name, r.stderr)
		}
		assert.NoFileExists(t, unused, "a database URL wins over -db")
		r := tasks(t, map[string]string{"TASKS_DATABASE_URL": refused}, "", "migrate", "-database-url", url)
		assert.Equal(t, exitOK, r.code, "the flag wins: %s", r.stderr)
		r = tasks(t, map[string]string{"TASKS_DATABASE_URL": refused}, "", "migrate")
		assert.Equal(t, exitRetry, r.code, "TASKS_DATABASE_URL, unreachable, was used: %s", r.stderr)
		assert.Zero(t, s.count(t, "tasks", "true"), "the tasks table is in the schema the URL names")

		// The store's flags reach it: -tasks-table names the table Migrate
		// makes, -citus requires the extension this server lacks.
		r = tasks(t, s.vars, "", "migrate", "-tasks-table", strings.TrimSuffix(s.prefix, ".")+".work_tasks")
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Zero(t, s.count(t, "work_tasks", "true"))
		r = tasks(t, with(s.vars, "TASKS_CITUS", "true"), "", "migrate")
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, "the citus extension is not installed")
	})
}
