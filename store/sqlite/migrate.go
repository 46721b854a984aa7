package sqlite

import (
	"context"
	"embed"
	"fmt"

	"github.com/actionvector/tasks/internal/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

func migrations() ([]migration.Migration, error) {
	return migration.Load(migrationFiles, "migrations/*.sql", func(file string) (string, error) {
		b, err := migrationFiles.ReadFile(file)
		return string(b), err
	})
}

// Migrate brings the schema to this version of the library. It is
// idempotent and safe to run from several processes at once: each
// migration runs, with its bookkeeping row, in one write transaction.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	return s.inWriteTx(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS actionvector_tasks_migrations (
			version    INTEGER NOT NULL PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at TEXT    NOT NULL)`); err != nil {
			return wrapErr("migrate", err)
		}
		var current int
		if err := q.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM actionvector_tasks_migrations`).Scan(&current); err != nil {
			return wrapErr("migrate", err)
		}
		if latest := migration.Latest(ms); current > latest {
			return fmt.Errorf("sqlite: migrate: database schema version %d is newer than this library's %d", current, latest)
		}
		for _, m := range ms {
			if m.Version <= current {
				continue
			}
			if _, err := q.ExecContext(ctx, m.SQL); err != nil {
				return wrapErr("migrate "+m.Name, err)
			}
			if _, err := q.ExecContext(ctx, `INSERT INTO actionvector_tasks_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, formatTimestamp(s.now())); err != nil {
				return wrapErr("migrate "+m.Name, err)
			}
		}
		return nil
	})
}
