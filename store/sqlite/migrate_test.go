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
