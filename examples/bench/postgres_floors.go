package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/actionvector/tasks/taskcreate"
)

// Floors stages the rows of the tasks table in key order, the order the
// adapter writes them in, creates the floor tables, reads the rows into
// memory for COPY, and stages the perimeter of req and its latest dates.
func (d *pgDatabase) Floors(ctx context.Context, req taskcreate.Request) (floors, error) {
	return stageFloors(ctx, d, req, &pgFloors{d: d, org: req.OrganizationID})
}

// stagePerimeter sends the pairs as two arrays and, on Citus, places them
// with the organization's action vectors.
func (d *pgDatabase) stagePerimeter(ctx context.Context, in batchInput) error {
	for _, ddl := range []struct {
		sql  string
		args []any
	}{
		{sql: `CREATE TABLE ` + d.table(pgPairs) + ` (organization_id text NOT NULL, variant_id text NOT NULL, shop_id text NOT NULL)`},
		{sql: `INSERT INTO ` + d.table(pgPairs) + ` SELECT $1, * FROM unnest($2::text[], $3::text[])`, args: []any{in.org, in.variants, in.shops}},
		{sql: `CREATE TABLE ` + d.table(pgLatest) + ` (domain text NOT NULL, snapshot_date date NOT NULL)`},
		{sql: `INSERT INTO ` + d.table(pgLatest) + `
			SELECT d, (SELECT max(snapshot_date) FROM ` + d.table(pgVectors) + ` WHERE organization_id = $1 AND domain = d)
			FROM unnest($2::text[]) AS d`, args: []any{in.org, in.domains}},
		{sql: `DELETE FROM ` + d.table(pgLatest) + ` WHERE snapshot_date IS NULL`},
		{sql: `VACUUM ANALYZE ` + d.table(pgPairs)},
		{sql: `VACUUM ANALYZE ` + d.table(pgLatest)},
	} {
		if err := d.exec(ctx, ddl.sql, ddl.args...); err != nil {
			return err
		}
	}
	if !d.citus {
		return nil
	}
	// The perimeter lives with the organization's action vectors.
	if err := d.distribute(ctx, pgPairs, pgVectors); err != nil {
		return err
	}
	return d.exec(ctx, `SELECT create_reference_table($1)`, d.table(pgLatest))
}

// createFloorTables sorts the staged rows in the adapter's lock order, the
// order its open-key index and its calls write in, and, on Citus, places the floor tables with the
// tasks.
func (d *pgDatabase) createFloorTables(ctx context.Context) error {
	for _, ddl := range []string{
		`CREATE TABLE ` + d.table(pgStaging) + ` AS SELECT * FROM ` + d.table(pgTasks) +
			` ORDER BY variant_id COLLATE "C", shop_id COLLATE "C", domain COLLATE "C"`,
		`VACUUM ANALYZE ` + d.table(pgStaging),
		`CREATE TABLE ` + d.table(pgF1) + ` (LIKE ` + d.table(pgTasks) + `)`,
		`CREATE TABLE ` + d.table(pgF3) + ` (LIKE ` + d.table(pgTasks) + ` INCLUDING ALL)`,
	} {
		if err := d.exec(ctx, ddl); err != nil {
			return err
		}
	}
	// LIKE copies no storage parameter: F3 takes the tasks table's own
	// (its fillfactor, which makes a refresh a HOT update) as well.
	options, err := d.text(ctx, `SELECT coalesce(array_to_string(reloptions, ', '), '') FROM pg_class WHERE oid = '`+d.table(pgTasks)+`'::regclass`)
	if err != nil {
		return err
	}
	if options != "" {
		if err := d.exec(ctx, `ALTER TABLE `+d.table(pgF3)+` SET (`+options+`)`); err != nil {
			return err
		}
	}
	if !d.citus {
		return nil
	}
	// The floors write where the call writes: on the organization's worker.
	for _, table := range []string{pgStaging, pgF1, pgF3} {
		if err := d.distribute(ctx, table, pgTasks); err != nil {
			return err
		}
	}
	return nil
}

// distribute makes table a distributed table of Citus, by organization,
// co-located with colocateWith.
func (d *pgDatabase) distribute(ctx context.Context, table, colocateWith string) error {
	return d.exec(ctx, `SELECT create_distributed_table($1, 'organization_id', colocate_with => $2)`,
		d.table(table), d.table(colocateWith))
}

// pgFloors are the floors on PostgreSQL.
type pgFloors struct {
	d       *pgDatabase
	org     string
	columns []string
	rows    [][]any
}

func (f *pgFloors) Rows() int { return len(f.rows) }

// readStaged reads the staged rows into memory, with their columns, for
// COPY.
func (f *pgFloors) readStaged(ctx context.Context) error {
	err := f.d.raw(ctx, func(conn *pgx.Conn) error {
		// Evidence as text: Values would decode jsonb into maps, and COPY
		// would then spend its time encoding them again.
		rows, err := conn.Query(ctx, `SELECT id, organization_id, source_type, domain, shop_id, variant_id, status, priority,
			workflow_run_id, snapshot_date, recommended_qty, recommended_discount_pct, confidence, evidence::text AS evidence,
			created_at, updated_at FROM `+f.d.table(pgStaging))
		if err != nil {
			return err
		}
		for _, fd := range rows.FieldDescriptions() {
			f.columns = append(f.columns, fd.Name)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return err
			}
			f.rows = append(f.rows, vals)
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("postgres: reading the staged rows: %w", err)
	}
	return nil
}

// ReadFR reads every column a call needs of the latest action vectors of
// the staged perimeter, and sends back only their sums, by the best plan
// found: a nested loop over the pairs, in primary-key order, and the
// domains, probing the primary key once per candidate. The planner left
// to itself prefers a hash join that spills to disk, about ten times
// slower.
func (f *pgFloors) ReadFR(ctx context.Context) (rows int, err error) {
	err = f.inTx(ctx, func(tx *sql.Tx) (err error) {
		rows, err = f.readFR(ctx, tx)
		return err
	})
	return rows, err
}

// CallFloor is F_R then F3 in one transaction, as a call runs them.
func (f *pgFloors) CallFloor(ctx context.Context, runID string) error {
	return f.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := f.readFR(ctx, tx); err != nil {
			return err
		}
		return f.upsertF3(ctx, tx, runID)
	})
}

// inTx runs do in a transaction that commits, with hash and merge joins
// off for F_R.
func (f *pgFloors) inTx(ctx context.Context, do func(*sql.Tx) error) error {
	tx, err := f.d.DB().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after Commit, a no-op
	for _, set := range []string{`SET LOCAL enable_hashjoin = off`, `SET LOCAL enable_mergejoin = off`} {
		if _, err := tx.ExecContext(ctx, set); err != nil {
			return err
		}
	}
	if err := do(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func (f *pgFloors) readFR(ctx context.Context, tx *sql.Tx) (rows int, err error) {
	var evidence, qty sql.NullInt64
	var discount, confidence sql.NullFloat64
	err = tx.QueryRowContext(ctx, `
		SELECT count(*), sum(pg_column_size(v.decision_vector_snapshot)), sum(v.recommended_qty),
		       sum(v.recommended_discount_pct), sum(v.recommendation_confidence)
		FROM `+f.d.table(pgPairs)+` AS p
		CROSS JOIN `+f.d.table(pgLatest)+` AS l
		JOIN `+f.d.table(pgVectors)+` AS v
		  ON v.organization_id = p.organization_id AND v.variant_id = p.variant_id AND v.shop_id = p.shop_id
		 AND v.snapshot_date = l.snapshot_date AND v.domain = l.domain
		WHERE p.organization_id = $1`, f.org).Scan(&rows, &evidence, &qty, &discount, &confidence)
	if err != nil {
		return 0, fmt.Errorf("postgres: F_R: %w", err)
	}
	return rows, nil
}

func (f *pgFloors) ClearF1(ctx context.Context) error {
	return f.d.exec(ctx, `TRUNCATE `+f.d.table(pgF1))
}

func (f *pgFloors) LoadF1(ctx context.Context) error {
	return f.d.raw(ctx, func(conn *pgx.Conn) error {
		n, err := conn.CopyFrom(ctx, pgx.Identifier{f.d.schema, pgF1}, f.columns, pgx.CopyFromRows(f.rows))
		if err == nil && n != int64(len(f.rows)) {
			err = fmt.Errorf("COPY wrote %d of %d rows", n, len(f.rows))
		}
		return err
	})
}

func (f *pgFloors) CountF3(ctx context.Context, runID string) (rows, ofRun int, err error) {
	err = f.d.DB().QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE workflow_run_id = $1) FROM `+f.d.table(pgF3),
		runID).Scan(&rows, &ofRun)
	return rows, ofRun, err
}

func (f *pgFloors) ClearF3(ctx context.Context) error {
	return f.d.exec(ctx, `TRUNCATE `+f.d.table(pgF3))
}

func (f *pgFloors) UpsertF3(ctx context.Context, runID string) error {
	return f.upsertF3(ctx, f.d.DB(), runID)
}

func (f *pgFloors) upsertF3(ctx context.Context, q execer, runID string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO `+f.d.table(pgF3)+` (`+taskColumns+`)
		SELECT `+stagedAsRun("$1::text", "$2::timestamptz")+` FROM `+f.d.table(pgStaging)+openKeyConflict,
		runID, time.Now())
	return err
}
