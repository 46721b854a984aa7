package sqlite

import (
	"context"

	"github.com/actionvector/tasks/internal/migration"
	"github.com/actionvector/tasks/internal/sqldb"
)

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
		if _, err := q.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS actionvector_tasks_migrations (
			version    INTEGER NOT NULL PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at TEXT    NOT NULL)`); err != nil {
			return s.wrapErr("migrate", err)
		}
		return migration.Apply(ctx, q, migration.Dialect{
			Current: `SELECT coalesce(max(version), 0) FROM actionvector_tasks_migrations`,
			Record: `INSERT INTO actionvector_tasks_migrations (version, name, applied_at)
			         VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`,
			Wrap: s.wrapErr,
		}, ms)
	})
}
