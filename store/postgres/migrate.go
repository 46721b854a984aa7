package postgres

import (
	"context"
	"fmt"

	"github.com/actionvector/tasks/internal/migration"
)

// migrations renders the embedded migrations with the Store's table names.
func (s *Store) migrations() ([]migration.Migration, error) {
	return migration.Load(sqlFiles, "migrations/*.sql", func(file string) (string, error) { return render(file, s.names) })
}

// Migrate brings the tasks table to this version of the library and creates
// the action-vector table if it does not exist (an existing one, such as a
// read-only mirror, is left as it is). It is idempotent, and concurrent
// calls from several processes apply each migration once.
func (s *Store) Migrate(ctx context.Context) error {
	if s.err != nil {
		return s.err
	}
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	if err := s.ensureActionVectorTable(ctx); err != nil {
		return err
	}
	if err := s.ensureMigrationsTable(ctx); err != nil {
		return err
	}
	return s.inTx(ctx, func(q querier) error {
		// Concurrent migrators queue on this row lock rather than on a
		// session-level lock, which distributed engines lack.
		if _, err := q.ExecContext(ctx, `INSERT INTO `+s.names.Migrations+` (version, name) VALUES (0, 'lock') ON CONFLICT (version) DO NOTHING`); err != nil {
			return s.wrapErr("migrate", err)
		}
		if _, err := q.ExecContext(ctx, `SELECT version FROM `+s.names.Migrations+` WHERE version = 0 FOR UPDATE`); err != nil {
			return s.wrapErr("migrate", err)
		}
		var current int
		if err := q.QueryRowContext(ctx, `SELECT max(version) FROM `+s.names.Migrations).Scan(&current); err != nil {
			return s.wrapErr("migrate", err)
		}
		if latest := migration.Latest(ms); current > latest {
			return fmt.Errorf("postgres: migrate: schema version %d of %s is newer than this library's %d", current, s.names.Tasks, latest)
		}
		for _, m := range ms {
			if m.Version <= current {
				continue
			}
			if _, err := q.ExecContext(ctx, m.SQL); err != nil {
				return s.wrapErr("migrate "+m.Name, err)
			}
			if _, err := q.ExecContext(ctx, `INSERT INTO `+s.names.Migrations+` (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return s.wrapErr("migrate "+m.Name, err)
			}
		}
		return nil
	})
}

// ensureMigrationsTable creates the bookkeeping table.
func (s *Store) ensureMigrationsTable(ctx context.Context) error {
	return s.execDDL(ctx, "migrate", `CREATE TABLE IF NOT EXISTS `+s.names.Migrations+` (
		version    integer     NOT NULL PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`)
}

// ensureActionVectorTable creates the action-vector table only when no
// relation has its name, so a mirror the store may not alter is never
// touched (CREATE TABLE IF NOT EXISTS would still need CREATE rights).
func (s *Store) ensureActionVectorTable(ctx context.Context) error {
	var exists bool
	if err := s.queryer().QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, s.names.ActionVector).Scan(&exists); err != nil {
		return s.wrapErr("migrate", err)
	}
	if exists {
		return nil
	}
	return s.execDDL(ctx, "migrate action_vector", s.sql.actionVectorDDL)
}

// execDDL runs CREATE ... IF NOT EXISTS statements. Two processes racing on
// them can both miss the relation, and one then fails on a catalog unique
// index; running them again finds it.
func (s *Store) execDDL(ctx context.Context, step, ddl string) error {
	_, err := s.queryer().ExecContext(ctx, ddl)
	if s.tx == nil && (hasCode(err, uniqueViolation) || hasCode(err, duplicateTable) || hasCode(err, duplicateObject)) {
		_, err = s.queryer().ExecContext(ctx, ddl)
	}
	if err != nil {
		return s.wrapErr(step, err)
	}
	return nil
}
