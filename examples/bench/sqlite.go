package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/actionvector/tasks/store/sqlite"
)

// sqliteDatabase is a SQLite store on a file database, in WAL mode as
// sqlite.Open configures it. The floor tables live in the same file, so
// they write under the same I/O conditions.
type sqliteDatabase struct {
	pool
	store   *sqlite.Store
	dir     string
	tempDir bool // dir was made for this run: Close removes it
}

// The tables of the database. The adapter's names are fixed.
const (
	sqliteTasks   = "tasks"
	sqliteStaging = "floor_staging"
	sqliteF1      = "floor_f1"
	sqliteF3      = "floor_f3"
	sqlitePairs   = "floor_pairs"  // the perimeter of the call, in primary-key order
	sqliteLatest  = "floor_latest" // the latest snapshot date of each domain of the call
)

func openSQLite(ctx context.Context, dir string) (*sqliteDatabase, error) {
	d := &sqliteDatabase{dir: dir}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "actionvector-bench-")
		if err != nil {
			return nil, err
		}
		d.dir, d.tempDir = tmp, true
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(d.dir, "bench.db")
	// A database of an earlier run would add its rows to the fixture's.
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		d.removeTemp()
		return nil, err
	}
	d.store, d.pool = s, pool{db: s.DB(), kind: "sqlite"}
	return d, nil
}

func (d *sqliteDatabase) removeTemp() {
	if d.tempDir {
		os.RemoveAll(d.dir)
	}
}

func (d *sqliteDatabase) Name() string     { return "sqlite" }
func (d *sqliteDatabase) Adapter() adapter { return d.store }

func (d *sqliteDatabase) Version(ctx context.Context) (string, error) {
	v, err := d.text(ctx, `SELECT sqlite_version()`)
	return "SQLite " + v + " (modernc.org/sqlite)", err
}

func (d *sqliteDatabase) Analyze(ctx context.Context) error { return d.exec(ctx, `ANALYZE`) }

func (d *sqliteDatabase) ClearTasks(ctx context.Context) error {
	return d.exec(ctx, `DELETE FROM `+sqliteTasks)
}

// Settle moves the write-ahead log into the database file, so no timed run
// pays for the checkpoint of the previous one.
func (d *sqliteDatabase) Settle(ctx context.Context) error {
	return d.exec(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
}

func (d *sqliteDatabase) Close(context.Context) error {
	err := d.store.Close()
	d.removeTemp()
	return err
}

func (d *sqliteDatabase) Naive() naiveSQL {
	return naiveSQL{
		latest: `SELECT max(snapshot_date) FROM action_vector WHERE organization_id = ?1 AND domain = ?2`,
		vector: `SELECT recommended_qty, recommended_discount_pct, recommendation_confidence, decision_vector_snapshot
			FROM action_vector
			WHERE organization_id = ?1 AND variant_id = ?2 AND shop_id = ?3 AND snapshot_date = ?4 AND domain = ?5`,
		upsert: `INSERT INTO ` + sqliteTasks + ` (` + taskColumns + `)
			VALUES (?1, ?2, 'ACTION_VECTOR', ?3, ?4, ?5, 'OPEN', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)` +
			openKeyConflict + `
			RETURNING id`,
		now: sqliteTimestamp,
		id:  func(id uuid.UUID) any { return id[:] },
	}
}

// sqliteTimestamp is t in the adapter's timestamp format: fixed width, UTC,
// microseconds.
func sqliteTimestamp(t time.Time) any { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }
