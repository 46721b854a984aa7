package main

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// migrationsTable returns the name of the store's record of migrations.
func (s testStore) migrationsTable() string {
	if s.prefix == "" {
		return "actionvector_tasks_migrations" // SQLite's
	}
	return "tasks_migrations" // PostgreSQL's: named after the tasks table
}

// relations counts the tables of the store's database, or of its schema.
func (s testStore) relations(t *testing.T) int {
	t.Helper()
	query := `SELECT count(*) FROM sqlite_master`
	if s.prefix != "" {
		query = `SELECT count(*) FROM information_schema.tables WHERE table_schema = '` + strings.TrimSuffix(s.prefix, ".") + `'`
	}
	var n int
	require.NoError(t, s.db.QueryRowContext(t.Context(), query).Scan(&n))
	return n
}

// lines splits output into its lines.
func lines(output string) []string { return strings.Split(strings.TrimSuffix(output, "\n"), "\n") }

// migrate -dry-run lists the pending migrations and writes nothing;
// migrate applies them, once; version reports the schema version before
// and after, which is what the database records.
func TestMigrateAndVersion(t *testing.T) {
	onEachStore(t, func(t *testing.T, newStore func(*testing.T) testStore) {
		s := newStore(t)
		r := tasks(t, s.vars, "", "migrate", "-dry-run")
		require.Equal(t, exitOK, r.code, r.stderr)
		out := lines(r.stdout)
		assert.Equal(t, "schema version 0", out[0])
		require.Greater(t, len(out), 1, "a new database has migrations pending")
		var pending []string
		for _, line := range out[1:] {
			name, ok := strings.CutPrefix(line, "pending ")
			require.True(t, ok, "a line of the pending migrations: %q", line)
			pending = append(pending, name)
		}
		latest, err := strconv.Atoi(strings.SplitN(pending[len(pending)-1], "_", 2)[0])
		require.NoError(t, err, "a migration's name starts with its version")
		if s.prefix == "" {
			assert.NoFileExists(t, s.vars["TASKS_DB"], "a dry run creates no database")
		} else {
			assert.Zero(t, s.relations(t), "a dry run creates nothing")
		}

		r = tasks(t, s.vars, "", "version")
		require.Equal(t, exitOK, r.code, r.stderr)
		out = lines(r.stdout)
		assert.True(t, strings.HasPrefix(out[0], "github.com/actionvector/tasks/cmd/tasks "), "the command's module first: %q", out[0])
		assert.Equal(t, "schema version 0 (pending: "+strings.Join(pending, ", ")+"; run tasks migrate)", out[len(out)-1])
		if s.prefix == "" {
			assert.NoFileExists(t, s.vars["TASKS_DB"], "version creates no database")
		}

		r = tasks(t, s.vars, "", "migrate")
		require.Equal(t, exitOK, r.code, r.stderr)
		var applied []string
		for _, name := range pending {
			applied = append(applied, "applied "+name)
		}
		assert.Equal(t, strings.Join(append(applied, "schema version "+strconv.Itoa(latest)), "\n")+"\n", r.stdout)
		var recorded int
		require.NoError(t, s.db.QueryRowContext(t.Context(), "SELECT max(version) FROM "+s.table(s.migrationsTable())).Scan(&recorded))
		assert.Equal(t, latest, recorded, "the version the database records")

		for _, args := range [][]string{{"migrate"}, {"migrate", "-dry-run"}} {
			r = tasks(t, s.vars, "", args...)
			require.Equal(t, exitOK, r.code, r.stderr)
			assert.Equal(t, "schema version "+strconv.Itoa(latest)+"\n", r.stdout, "%v once migrated", args)
		}
		r = tasks(t, s.vars, "", "version")
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, "schema version "+strconv.Itoa(latest), lines(r.stdout)[len(lines(r.stdout))-1])

		// A schema this build does not know: migrate refuses, exit 1;
		// version reports it.
		_, err = s.db.ExecContext(t.Context(), "INSERT INTO "+s.table(s.migrationsTable())+" (version, name, applied_at) VALUES ($1, 'later.sql', '2030-01-01')", latest+1)
		require.NoError(t, err)
		r = tasks(t, s.vars, "", "migrate")
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, "newer than this library's")
		r = tasks(t, s.vars, "", "version")
		assert.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stdout, "schema version "+strconv.Itoa(latest+1)+" (")
	})
}

// Several migrators at once each succeed, and every migration is applied
// once.
func TestMigrateFromSeveralProcesses(t *testing.T) {
	onEachStore(t, func(t *testing.T, newStore func(*testing.T) testStore) {
		s := newStore(t)
		results := make([]result, 4)
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() { results[i] = tasksWith(t.Context(), s.vars, strings.NewReader(""), "migrate") })
		}
		wg.Wait()
		last := func(r result) string { l := lines(r.stdout); return l[len(l)-1] }
		for i, r := range results {
			assert.Equal(t, exitOK, r.code, "migrator %d: %s", i, r.stderr)
			assert.Equal(t, last(results[0]), last(r), "migrator %d ends on the same schema version", i)
		}
		var rows, versions, latest int
		require.NoError(t, s.db.QueryRowContext(t.Context(), "SELECT count(*), count(DISTINCT version), max(version) FROM "+s.table(s.migrationsTable())+
			" WHERE version > 0").Scan(&rows, &versions, &latest))
		assert.Equal(t, versions, rows, "a migration recorded twice")
		assert.Equal(t, "schema version "+strconv.Itoa(latest), last(results[0]))
	})
}
