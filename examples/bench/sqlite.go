package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/google/uuid"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/actionvector/tasks/store/sqlite"
)

// sqliteDatabase is a SQLite store on a file database, in WAL mode as
// sqlite.Open configures it. The floor tables live in the same file, so
// they write under the same I/O conditions.
type sqliteDatabase struct {
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
)

// sqliteRowsPerInsert is the rows of one F1 statement: 16 parameters a
// row stays well below SQLite's limit of 32,766 per statement.
const sqliteRowsPerInsert = 100

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
	d.store = s
	return d, nil
}

func (d *sqliteDatabase) removeTemp() {
	if d.tempDir {
		os.RemoveAll(d.dir)
	}
}

func (d *sqliteDatabase) Name() string     { return "sqlite" }
func (d *sqliteDatabase) Adapter() adapter { return d.store }
func (d *sqliteDatabase) DB() *sql.DB      { return d.store.DB() }

func (d *sqliteDatabase) exec(ctx context.Context, query string, args ...any) error {
	if _, err := d.DB().ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

func (d *sqliteDatabase) Version(ctx context.Context) (string, error) {
	var v string
	err := d.DB().QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&v)
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
		// The adapter's timestamp format: fixed width, UTC, microseconds.
		now: func(t time.Time) any { return t.Format("2006-01-02T15:04:05.000000Z") },
		id:  func(id uuid.UUID) any { return id[:] },
	}
}

// Floors stages the rows of the tasks table in key order, creates the
// floor tables, and reads the rows into memory for F1.
func (d *sqliteDatabase) Floors(ctx context.Context) (floors, error) {
	f3, err := d.copySchema(ctx, sqliteTasks, sqliteF3)
	if err != nil {
		return nil, err
	}
	ddl := append([]string{
		`CREATE TABLE ` + sqliteStaging + ` AS SELECT * FROM ` + sqliteTasks + ` ORDER BY domain, shop_id, variant_id`,
		`CREATE TABLE ` + sqliteF1 + ` AS SELECT * FROM ` + sqliteTasks + ` WHERE false`, // columns only
	}, f3...)
	for _, stmt := range ddl {
		if err := d.exec(ctx, stmt); err != nil {
			return nil, err
		}
	}
	rows, err := d.DB().QueryContext(ctx, `SELECT `+taskColumns+` FROM `+sqliteStaging)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading the staged rows: %w", err)
	}
	defer rows.Close()
	f := &sqliteFloors{d: d}
	for rows.Next() {
		vals := make([]any, 16)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("sqlite: reading the staged rows: %w", err)
		}
		f.rows = append(f.rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading the staged rows: %w", err)
	}
	return f, nil
}

// copySchema returns the DDL of table and its indexes as the database
// holds it, renamed to table to (indexes prefixed with to), so the F3
// table has exactly the constraints and indexes of the adapter's.
func (d *sqliteDatabase) copySchema(ctx context.Context, table, to string) ([]string, error) {
	rows, err := d.DB().QueryContext(ctx,
		`SELECT type, sql FROM sqlite_schema WHERE tbl_name = ?1 AND sql IS NOT NULL ORDER BY type = 'index'`, table)
	if err != nil {
		return nil, fmt.Errorf("sqlite: schema of %s: %w", table, err)
	}
	defer rows.Close()
	tableWord := regexp.MustCompile(`\b` + regexp.QuoteMeta(table) + `\b`)
	indexName := regexp.MustCompile(`(?i)^(CREATE\s+(?:UNIQUE\s+)?INDEX\s+)(\w+)`)
	var ddl []string
	for rows.Next() {
		var typ, text string
		if err := rows.Scan(&typ, &text); err != nil {
			return nil, fmt.Errorf("sqlite: schema of %s: %w", table, err)
		}
		if typ == "index" {
			text = indexName.ReplaceAllString(text, "${1}"+to+"_${2}")
		}
		ddl = append(ddl, tableWord.ReplaceAllString(text, to))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: schema of %s: %w", table, err)
	}
	if len(ddl) == 0 || !strings.Contains(ddl[0], to) {
		return nil, fmt.Errorf("sqlite: no table %s to copy", table)
	}
	return ddl, nil
}

type sqliteFloors struct {
	d    *sqliteDatabase
	rows [][]any
}

func (f *sqliteFloors) Rows() int { return len(f.rows) }

func (f *sqliteFloors) ClearF1(ctx context.Context) error {
	return f.d.exec(ctx, `DELETE FROM `+sqliteF1)
}

// LoadF1 inserts the rows in one transaction, sqliteRowsPerInsert rows per
// execution of one prepared statement, and the remainder with a second.
func (f *sqliteFloors) LoadF1(ctx context.Context) (err error) {
	tx, err := f.d.DB().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	full := f.rows[:len(f.rows)/sqliteRowsPerInsert*sqliteRowsPerInsert]
	if err := insertRows(ctx, tx, full, sqliteRowsPerInsert); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, f.rows[len(full):], len(f.rows)-len(full)); err != nil {
		return err
	}
	return tx.Commit()
}

// insertRows inserts rows, perStatement at a time, with one prepared
// statement.
func insertRows(ctx context.Context, tx *sql.Tx, rows [][]any, perStatement int) error {
	if len(rows) == 0 {
		return nil
	}
	row := "(" + strings.Repeat("?,", 15) + "?)"
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO `+sqliteF1+` (`+taskColumns+`) VALUES `+
		strings.Repeat(row+",", perStatement-1)+row)
	if err != nil {
		return err
	}
	defer stmt.Close()
	args := make([]any, 0, 16*perStatement)
	for lo := 0; lo < len(rows); lo += perStatement {
		args = args[:0]
		for _, r := range rows[lo : lo+perStatement] {
			args = append(args, r...)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

func (f *sqliteFloors) ClearF3(ctx context.Context) error {
	return f.d.exec(ctx, `DELETE FROM `+sqliteF3)
}

// UpsertF3 needs WHERE true: SQLite's rule for INSERT ... SELECT ... ON CONFLICT.
func (f *sqliteFloors) UpsertF3(ctx context.Context) error {
	return f.d.exec(ctx, `INSERT INTO `+sqliteF3+` (`+taskColumns+`)
		SELECT `+taskColumns+` FROM `+sqliteStaging+` WHERE true`+openKeyConflict)
}
