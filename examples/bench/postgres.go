package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/actionvector/tasks/store/postgres"
	"github.com/actionvector/tasks/taskcreate"
)

// pgDatabase is a PostgreSQL store in a scratch schema of its own.
type pgDatabase struct {
	store  *postgres.Store
	schema string // generated: bench_<hex>
	// checkpoint is false once CHECKPOINT was refused (it needs superuser
	// or pg_checkpoint); Settle then does nothing.
	checkpoint bool
	citus      bool // the store's distributed layout, on a Citus coordinator
}

// The tables of the scratch schema, all unqualified.
const (
	pgTasks   = "tasks"
	pgVectors = "action_vector"
	pgStaging = "floor_staging" // the rows a call wrote
	pgF1      = "floor_f1"      // LIKE tasks: no index, no constraint but NOT NULL
	pgF3      = "floor_f3"      // LIKE tasks INCLUDING ALL: the same indexes and constraints
	pgPairs   = "floor_pairs"   // the perimeter of the call, in primary-key order
	pgLatest  = "floor_latest"  // the latest snapshot date of each domain of the call
)

// taskColumns are the columns of the tasks table, in its order.
const taskColumns = `id, organization_id, source_type, domain, shop_id, variant_id, status, priority, workflow_run_id,
	snapshot_date, recommended_qty, recommended_discount_pct, confidence, evidence, created_at, updated_at`

// stagedAsRun is the select list of F3 over the staging table: the staged
// rows as a call of another run writes them, with the run and updated_at
// given as the SQL expressions run and now. Onto the full table every row
// then changes its run and its time, as an update call's rows do, and not
// only rewrites the values it holds.
func stagedAsRun(run, now string) string {
	return `id, organization_id, source_type, domain, shop_id, variant_id, status, priority, ` + run + `,
	snapshot_date, recommended_qty, recommended_discount_pct, confidence, evidence, created_at, ` + now
}

// openKeyConflict is the adapter's conflict target and refresh, shared by
// the F3 floor and the naive baseline on both databases: every column of
// the recommendation, the run and updated_at take the new row's values.
var openKeyConflict = `
	ON CONFLICT (organization_id, domain, shop_id, variant_id)
	    WHERE source_type = 'ACTION_VECTOR' AND status IN ('OPEN', 'IN_PROGRESS')
	DO UPDATE SET ` + refreshFromExcluded("workflow_run_id", "snapshot_date", "recommended_qty",
	"recommended_discount_pct", "confidence", "evidence", "updated_at")

// refreshFromExcluded returns "c = excluded.c" for each column, separated by commas.
func refreshFromExcluded(columns ...string) string {
	for i, c := range columns {
		columns[i] = c + " = excluded." + c
	}
	return strings.Join(columns, ", ")
}

func openPostgres(ctx context.Context, dsn string, citus bool) (*pgDatabase, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	d := &pgDatabase{schema: "bench_" + hex.EncodeToString(b), checkpoint: true, citus: citus}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+d.schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create scratch schema: %w", err)
	}
	// The store gets a pool of its own, opened and configured by Open as a
	// user's would be.
	opts := []postgres.Option{postgres.WithTasksTable(d.schema + "." + pgTasks), postgres.WithActionVectorTable(d.schema + "." + pgVectors)}
	if citus {
		opts = append(opts, postgres.WithCitus())
	}
	d.store, err = postgres.Open(ctx, dsn, opts...)
	if err != nil {
		_, _ = db.ExecContext(context.WithoutCancel(ctx), `DROP SCHEMA `+d.schema+` CASCADE`)
		db.Close()
		return nil, err
	}
	db.Close()
	return d, nil
}

func (d *pgDatabase) Name() string {
	if d.citus {
		return "citus"
	}
	return "postgres"
}
func (d *pgDatabase) Adapter() adapter { return d.store }
func (d *pgDatabase) DB() *sql.DB      { return d.store.DB() }

// table returns the qualified name of a table of the scratch schema.
func (d *pgDatabase) table(name string) string { return d.schema + "." + name }

func (d *pgDatabase) exec(ctx context.Context, query string, args ...any) error {
	if _, err := d.DB().ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

func (d *pgDatabase) Version(ctx context.Context) (string, error) {
	var v string
	err := d.DB().QueryRowContext(ctx, `SHOW server_version`).Scan(&v)
	v = "PostgreSQL " + v
	if d.citus && err == nil {
		var c string
		var workers int
		err = d.DB().QueryRowContext(ctx, `SELECT citus_version(), (SELECT count(*) FROM citus_get_active_worker_nodes())`).Scan(&c, &workers)
		v += fmt.Sprintf(", %s, %d workers", strings.SplitN(c, " on ", 2)[0], workers)
	}
	return v, err
}

// Analyze also vacuums, so the seeded table is all-visible, as a mirror
// that is written once a day is by the time anyone reads it.
func (d *pgDatabase) Analyze(ctx context.Context) error {
	return d.exec(ctx, `VACUUM ANALYZE `+d.table(pgVectors))
}

func (d *pgDatabase) ClearTasks(ctx context.Context) error {
	return d.exec(ctx, `TRUNCATE `+d.table(pgTasks))
}

// Settle writes the dirty buffers of the previous run, so a checkpoint
// never lands inside a timed one.
func (d *pgDatabase) Settle(ctx context.Context) error {
	if !d.checkpoint {
		return nil
	}
	var pgErr *pgconn.PgError
	checkpoint := `CHECKPOINT`
	if d.citus {
		checkpoint = `SELECT run_command_on_all_nodes('CHECKPOINT')`
	}
	err := d.exec(ctx, checkpoint)
	if errors.As(err, &pgErr) && pgErr.Code == "42501" { // insufficient_privilege
		d.checkpoint = false
		return nil
	}
	return err
}

func (d *pgDatabase) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := d.exec(ctx, `DROP SCHEMA `+d.schema+` CASCADE`)
	if cerr := d.store.Close(); err == nil {
		err = cerr
	}
	return err
}

func (d *pgDatabase) Naive() naiveSQL {
	return naiveSQL{
		latest: `SELECT max(snapshot_date) FROM ` + d.table(pgVectors) + ` WHERE organization_id = $1 AND domain = $2`,
		vector: `SELECT recommended_qty, recommended_discount_pct, recommendation_confidence, decision_vector_snapshot
			FROM ` + d.table(pgVectors) + `
			WHERE organization_id = $1 AND variant_id = $2 AND shop_id = $3 AND snapshot_date = $4 AND domain = $5`,
		upsert: `INSERT INTO ` + d.table(pgTasks) + ` AS t (` + taskColumns + `)
			VALUES ($1, $2, 'ACTION_VECTOR', $3, $4, $5, 'OPEN', $6, $7, $8, $9, $10, $11, $12, $13, $13)` +
			openKeyConflict + `
			RETURNING t.id`,
		now: func(t time.Time) any { return t },
		id:  func(id uuid.UUID) any { return id.String() },
	}
}

// Floors stages the rows of the tasks table in key order, the order the
// adapter writes them in, creates the floor tables, reads the rows into
// memory for COPY, and stages the perimeter of req and its latest dates.
func (d *pgDatabase) Floors(ctx context.Context, req taskcreate.Request) (floors, error) {
	in := newBatchInput(req)
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
			return nil, err
		}
	}
	if d.citus {
		// The perimeter lives with the organization's action vectors.
		if err := d.exec(ctx, `SELECT create_distributed_table($1, 'organization_id', colocate_with => $2)`,
			d.table(pgPairs), d.table(pgVectors)); err != nil {
			return nil, err
		}
		if err := d.exec(ctx, `SELECT create_reference_table($1)`, d.table(pgLatest)); err != nil {
			return nil, err
		}
	}
	for _, ddl := range []string{
		`CREATE TABLE ` + d.table(pgStaging) + ` AS SELECT * FROM ` + d.table(pgTasks) +
			` ORDER BY domain COLLATE "C", shop_id COLLATE "C", variant_id COLLATE "C"`,
		`VACUUM ANALYZE ` + d.table(pgStaging),
		`CREATE TABLE ` + d.table(pgF1) + ` (LIKE ` + d.table(pgTasks) + `)`,
		`CREATE TABLE ` + d.table(pgF3) + ` (LIKE ` + d.table(pgTasks) + ` INCLUDING ALL)`,
	} {
		if err := d.exec(ctx, ddl); err != nil {
			return nil, err
		}
	}
	if d.citus {
		// The floors write where the call writes: on the organization's worker.
		for _, table := range []string{pgStaging, pgF1, pgF3} {
			if err := d.exec(ctx, `SELECT create_distributed_table($1, 'organization_id', colocate_with => $2)`,
				d.table(table), d.table(pgTasks)); err != nil {
				return nil, err
			}
		}
	}
	f := &pgFloors{d: d, org: in.org}
	err := d.raw(ctx, func(conn *pgx.Conn) error {
		// Evidence as text: Values would decode jsonb into maps, and COPY
		// would then spend its time encoding them again.
		rows, err := conn.Query(ctx, `SELECT id, organization_id, source_type, domain, shop_id, variant_id, status, priority,
			workflow_run_id, snapshot_date, recommended_qty, recommended_discount_pct, confidence, evidence::text AS evidence,
			created_at, updated_at FROM `+d.table(pgStaging))
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
		return nil, fmt.Errorf("postgres: reading the staged rows: %w", err)
	}
	return f, nil
}

// raw runs fn on a pgx connection of the store's pool.
func (d *pgDatabase) raw(ctx context.Context, fn func(*pgx.Conn) error) error {
	conn, err := d.DB().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error { return fn(dc.(*stdlib.Conn).Conn()) })
}

type pgFloors struct {
	d       *pgDatabase
	org     string
	columns []string
	rows    [][]any
}

func (f *pgFloors) Rows() int { return len(f.rows) }

// ReadFR reads every column a call needs of the latest action vectors of
// the staged perimeter, and sends back only their sums, by the best plan
// found: a nested loop over the pairs, in primary-key order, and the
// domains, probing the primary key once per candidate. The planner left
// to itself prefers a hash join that spills to disk, about ten times
// slower.
func (f *pgFloors) ReadFR(ctx context.Context) (rows int, err error) {
	tx, err := f.d.DB().BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() // it only read
	for _, set := range []string{`SET LOCAL enable_hashjoin = off`, `SET LOCAL enable_mergejoin = off`} {
		if _, err := tx.ExecContext(ctx, set); err != nil {
			return 0, err
		}
	}
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
	return f.d.exec(ctx, `INSERT INTO `+f.d.table(pgF3)+` (`+taskColumns+`)
		SELECT `+stagedAsRun("$1::text", "$2::timestamptz")+` FROM `+f.d.table(pgStaging)+openKeyConflict,
		runID, time.Now())
}
