package sqlite

import (
	"context"

	"github.com/actionvector/tasks/internal/migration"
	"github.com/actionvector/tasks/internal/sqldb"
)

// migrationsTable records the migrations applied.
const migrationsTable = "actionvector_tasks_migrations"

// Migrate creates the action-vector table if it does not exist and brings
// the tasks table to this version of the library. It is idempotent and safe
// to run from several processes at once: it runs in one write transaction,
// which SQLite gives one writer at a time.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	return s.inWriteTx(ctx, func(q sqldb.Querier) error {
		if _, err := q.ExecContext(ctx, actionVectorDDL); err != nil {
			return s.wrapErr("migrate action_vector", err)
		}
		if _, err := q.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+migrationsTable+` (
			version    INTEGER NOT NULL PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at TEXT    NOT NULL)`); err != nil {
			return s.wrapErr("migrate", err)
		}
		return migration.Apply(ctx, q, s.migrationDialect(), ms)
	})
}

// SchemaVersion returns the version of the latest migration applied to the
// database, 0 for a database never migrated. It writes nothing.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return migration.Applied(ctx, s.db.Querier(), s.migrationDialect())
}

// PendingMigrations returns the names of the migrations Migrate would
// apply, in the order it would apply them ("0001_tasks.sql"), none when the
// schema is current, and an error when the database's schema is newer than
// this library. Migrate also creates the action-vector table when it is
// missing, which is not a versioned migration. It writes nothing.
func (s *Store) PendingMigrations(ctx context.Context) ([]string, error) {
	ms, err := migrations()
	if err != nil {
		return nil, err
	}
	return migration.PendingNames(ctx, s.db.Querier(), s.migrationDialect(), ms)
}

// migrationDialect is how the store records its migrations.
func (s *Store) migrationDialect() migration.Dialect {
	return migration.Dialect{
		Exists:  `SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '` + migrationsTable + `'`,
		Current: `SELECT coalesce(max(version), 0) FROM ` + migrationsTable,
		Record: `INSERT INTO ` + migrationsTable + ` (version, name, applied_at)
		         VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`,
		Wrap: s.wrapErr,
	}
}
