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
)

// pgDatabase is a PostgreSQL store in a scratch schema of its own.
type pgDatabase struct {
	pool
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
	d.pool = pool{db: d.store.DB(), kind: "postgres"}
	return d, nil
}

func (d *pgDatabase) Name() string {
	if d.citus {
		return "citus"
	}
	return "postgres"
}
func (d *pgDatabase) Adapter() adapter { return d.store }

// table returns the qualified name of a table of the scratch schema.
func (d *pgDatabase) table(name string) string { return d.schema + "." + name }

func (d *pgDatabase) Version(ctx context.Context) (string, error) {
	v, err := d.text(ctx, `SHOW server_version`)
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

// raw runs fn on a pgx connection of the store's pool.
func (d *pgDatabase) raw(ctx context.Context, fn func(*pgx.Conn) error) error {
	conn, err := d.DB().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error { return fn(dc.(*stdlib.Conn).Conn()) })
}
