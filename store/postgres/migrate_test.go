package postgres_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/store/postgres"
)

// Before Migrate, a schema has version 0, and PendingMigrations lists what
// Migrate then records, in that order, without creating anything itself;
// after it, nothing is pending and the version is the highest recorded. A
// version this build does not know is an error for PendingMigrations.
func TestSchemaVersionAndPendingMigrations(t *testing.T) {
	ctx := t.Context()
	schema := newSchema(t)
	admin, app := single.pools(t)
	s := postgres.New(app, tablesIn(schema)...)

	version, err := s.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Zero(t, version)
	pending, err := s.PendingMigrations(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, pending)
	var relations int
	require.NoError(t, admin.QueryRowContext(ctx, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1`, schema).Scan(&relations))
	assert.Zero(t, relations, "reading the version created something")

	require.NoError(t, s.Migrate(ctx))
	rows, err := admin.QueryContext(ctx, `SELECT name FROM `+schema+`.tasks_migrations WHERE version > 0 ORDER BY version`)
	require.NoError(t, err)
	var recorded []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		recorded = append(recorded, name)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, recorded, pending, "pending before Migrate is what Migrate applied")
	var latest int
	require.NoError(t, admin.QueryRowContext(ctx, `SELECT max(version) FROM `+schema+`.tasks_migrations`).Scan(&latest))
	version, err = s.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, latest, version)
	pending, err = s.PendingMigrations(ctx)
	require.NoError(t, err)
	assert.Empty(t, pending)

	_, err = admin.ExecContext(ctx, `INSERT INTO `+schema+`.tasks_migrations (version, name) VALUES ($1, 'from_the_future.sql')`, latest+1)
	require.NoError(t, err)
	version, err = s.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, latest+1, version)
	_, err = s.PendingMigrations(ctx)
	assert.ErrorContains(t, err, "version "+strconv.Itoa(latest+1)+" is newer than this library's "+strconv.Itoa(latest))
}
