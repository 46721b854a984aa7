package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/actionvector/tasks/internal/migration"
	"github.com/actionvector/tasks/internal/sqldb"
)

// migrations renders the embedded migrations with the table names n.
func migrations(n names) ([]migration.Migration, error) {
	return migration.Load(sqlFiles, "migrations/*.sql", func(file string) (string, error) { return render(file, n) })
}

// Migrate brings the tasks table to this version of the library and creates
// the action-vector table if it does not exist (an existing one, such as a
// read-only mirror, is left as it is). It is idempotent, and concurrent
// calls from several processes apply each migration once. On a database
// with the citus extension it makes, or checks, the distributed layout,
// whether or not the Store was opened WithCitus.
func (s *Store) Migrate(ctx context.Context) error {
	citus, err := s.onCitus(ctx)
	if err != nil {
		return err
	}
	n := s.names
	n.Citus = citus
	ms, err := migrations(n)
	if err != nil {
		return err
	}
	if err := s.ensureActionVectorTable(ctx, n); err != nil {
		return err
	}
	if err := s.checkDistribution(ctx, citus, s.names.ActionVector); err != nil {
		return err
	}
	if err := s.ensureMigrationsTable(ctx); err != nil {
		return err
	}
	err = s.inTx(ctx, func(q sqldb.Querier) error {
		return migration.Apply(ctx, q, s.migrationDialect(), ms)
	})
	if err != nil {
		return err
	}
	if err := s.checkDistribution(ctx, citus, s.names.Tasks); err != nil {
		return err
	}
	s.setLayout(citus)
	return nil
}

// SchemaVersion returns the version of the latest migration applied to the
// tasks table, 0 when none is (its migrations table does not exist yet). It
// writes nothing.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return migration.Applied(ctx, s.db.Querier(), s.migrationDialect())
}

// PendingMigrations returns the names of the migrations Migrate would
// apply, in the order it would apply them ("0001_tasks.sql"), none when the
// schema is current, and an error when the database's schema is newer than
// this library. Migrate also creates the action-vector table when no
// relation has its name, which is not a versioned migration. It writes
// nothing.
func (s *Store) PendingMigrations(ctx context.Context) ([]string, error) {
	ms, err := migrations(s.names)
	if err != nil {
		return nil, err
	}
	return migration.PendingNames(ctx, s.db.Querier(), s.migrationDialect(), ms)
}

// migrationDialect is how the store records its migrations, in the table
// named after the tasks table.
func (s *Store) migrationDialect() migration.Dialect {
	return migration.Dialect{
		// Concurrent migrators queue on this row lock rather than on a
		// session-level lock, which distributed engines lack.
		Lock: []string{
			`INSERT INTO ` + s.names.Migrations + ` (version, name) VALUES (0, 'lock') ON CONFLICT (version) DO NOTHING`,
			`SELECT version FROM ` + s.names.Migrations + ` WHERE version = 0 FOR UPDATE`,
		},
		// The name is a validated identifier, quoted: no quote of its own.
		Exists:  `SELECT to_regclass('` + s.names.Migrations + `') IS NOT NULL`,
		Current: `SELECT coalesce(max(version), 0) FROM ` + s.names.Migrations,
		Record:  `INSERT INTO ` + s.names.Migrations + ` (version, name) VALUES ($1, $2)`,
		Wrap:    s.wrapErr,
	}
}

// onCitus reports whether the database has the citus extension, and fails
// when WithCitus says it must and it does not.
func (s *Store) onCitus(ctx context.Context) (bool, error) {
	var citus bool
	err := s.db.Querier().QueryRowContext(ctx, hasCitus).Scan(&citus)
	switch {
	case err != nil:
		return false, s.wrapErr("migrate: find Citus", err)
	case s.withCitus && !citus:
		return false, errors.New("postgres: migrate: WithCitus: the citus extension is not installed in this database (CREATE EXTENSION citus)")
	}
	return citus, nil
}

// checkDistribution makes sure, on Citus, that table is distributed by
// organization_id and co-located with the action-vector table, so that
// each statement of a call can run on one worker: a table made before, or
// by someone else, may not be.
func (s *Store) checkDistribution(ctx context.Context, citus bool, table string) error {
	if !citus {
		return nil
	}
	var column string
	var colocated bool
	err := s.db.Querier().QueryRowContext(ctx, `
		SELECT column_to_column_name(p.logicalrelid, p.partkey),
		       p.colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = $2::regclass)
		FROM pg_dist_partition p WHERE p.logicalrelid = $1::regclass`, table, s.names.ActionVector).Scan(&column, &colocated)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("postgres: migrate: on Citus, %s is not a distributed table; distribute it by organization_id "+
			"(SELECT create_distributed_table('%s', 'organization_id')), or migrate a new schema", table, table)
	case err != nil:
		return s.wrapErr("migrate: check distribution", err)
	case column != "organization_id":
		return fmt.Errorf("postgres: migrate: on Citus, %s is distributed by %s, not organization_id", table, column)
	case !colocated:
		return fmt.Errorf("postgres: migrate: on Citus, %s is not co-located with %s", table, s.names.ActionVector)
	}
	return nil
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
func (s *Store) ensureActionVectorTable(ctx context.Context, n names) error {
	var exists bool
	if err := s.db.Querier().QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, s.names.ActionVector).Scan(&exists); err != nil {
		return s.wrapErr("migrate", err)
	}
	if exists {
		return nil
	}
	ddl, err := render("action_vector.sql", n)
	if err != nil {
		return err
	}
	return s.execDDL(ctx, "migrate action_vector", ddl)
}

// execDDL runs CREATE ... IF NOT EXISTS statements. Two processes racing on
// them can both miss the relation, and one then fails on a catalog unique
// index; running them again finds it.
func (s *Store) execDDL(ctx context.Context, step, ddl string) error {
	_, err := s.db.Querier().ExecContext(ctx, ddl)
	if !s.db.InCallerTx() && (hasCode(err, uniqueViolation) || hasCode(err, duplicateTable) || hasCode(err, duplicateObject)) {
		_, err = s.db.Querier().ExecContext(ctx, ddl)
	}
	if err != nil {
		return s.wrapErr(step, err)
	}
	return nil
}
