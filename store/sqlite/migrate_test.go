package sqlite_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	tasksqlite "github.com/actionvector/tasks/store/sqlite"
)

// embeddedMigrations returns the names of the migration files beside this
// package, in version order, and the highest version: what Migrate should
// apply, read from the directory rather than from the store.
func embeddedMigrations(t *testing.T) ([]string, int) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var names []string
	latest := 0
	for _, f := range files { // Glob sorts; the names are zero-padded
		name := filepath.Base(f)
		v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		require.NoError(t, err, name)
		names, latest = append(names, name), max(latest, v)
	}
	return names, latest
}

// A database never migrated has version 0 and every migration pending,
// and asking writes nothing; once migrated, none is pending and the
// version is the latest file's. A version this build does not know is an
// error for PendingMigrations, and SchemaVersion reports it.
func TestSchemaVersionAndPendingMigrations(t *testing.T) {
	ctx := t.Context()
	files, latest := embeddedMigrations(t)
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "tasks.db"))
	require.NoError(t, err)
	defer db.Close()
	s := tasksqlite.New(db)
	// schemaIs checks what the store reports: pending nil for an error.
	schemaIs := func(version int, pending []string, why string) {
		t.Helper()
		v, err := s.SchemaVersion(ctx)
		require.NoError(t, err)
		assert.Equal(t, version, v, why)
		p, err := s.PendingMigrations(ctx)
		if pending == nil {
			assert.ErrorContains(t, err, fmt.Sprintf("version %d is newer than this library's %d", version, latest), why)
			return
		}
		require.NoError(t, err)
		assert.Equal(t, pending, p, why)
	}

	schemaIs(0, files, "a new database")
	var tables int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master`).Scan(&tables))
	assert.Zero(t, tables, "reading the version created something")

	require.NoError(t, s.Migrate(ctx))
	schemaIs(latest, []string{}, "once migrated")

	_, err = db.ExecContext(ctx, `INSERT INTO actionvector_tasks_migrations VALUES (?, 'from_the_future.sql', '')`, latest+1)
	require.NoError(t, err)
	schemaIs(latest+1, nil, "a schema newer than the library")
}

// Reading the version of a file that is not a database is an error, not 0.
func TestSchemaVersionOfAFileThatIsNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.db")
	require.NoError(t, os.WriteFile(path, []byte(strings.Repeat("not a database\n", 100)), 0o600))
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	_, err = tasksqlite.New(db).SchemaVersion(t.Context())
	assert.ErrorContains(t, err, "sqlite: schema version")
}

// No index holds the run, so a refresh rewrites no index entry; a sweep
// and its dry run read the organization's open tasks through the open-key
// index, never the whole table.
func TestSweepReadsTheOrganizationsOpenTasks(t *testing.T) {
	ctx := t.Context()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "tasks.db"))
	require.NoError(t, err)
	defer db.Close()
	s := tasksqlite.New(db)
	require.NoError(t, s.Migrate(ctx))
	var indexes []string
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks' AND sql IS NOT NULL ORDER BY name`)
	require.NoError(t, err)
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		indexes = append(indexes, name)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []string{"tasks_open_key"}, indexes)
	for _, name := range []string{"sweep_run.sql", "count_sweep.sql"} {
		query, err := os.ReadFile(filepath.Join("statements", name))
		require.NoError(t, err)
		var plan []string
		rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+string(query), "org", "run", "2026-01-01 00:00:00.000000")
		require.NoError(t, err, name)
		for rows.Next() {
			var id, parent, unused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
			plan = append(plan, detail)
		}
		require.NoError(t, rows.Err())
		assert.Contains(t, strings.Join(plan, "\n"), "USING INDEX tasks_open_key (organization_id=?)", name)
	}
}
