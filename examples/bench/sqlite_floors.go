package main

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/actionvector/tasks/taskcreate"
)

// sqliteRowsPerInsert is the rows of one F1 statement: 16 parameters a
// row stays well below SQLite's limit of 32,766 per statement.
const sqliteRowsPerInsert = 100

// Floors stages the rows of the tasks table in key order, creates the
// floor tables, reads the rows into memory for F1, and stages the
// perimeter of req and its latest dates.
func (d *sqliteDatabase) Floors(ctx context.Context, req taskcreate.Request) (floors, error) {
	return stageFloors(ctx, d, req, &sqliteFloors{d: d, org: req.OrganizationID})
}

// createFloorTables gives the F3 table the constraints and indexes of the
// adapter's, copied from its schema.
func (d *sqliteDatabase) createFloorTables(ctx context.Context) error {
	f3, err := d.copySchema(ctx, sqliteTasks, sqliteF3)
	if err != nil {
		return err
	}
	ddl := append([]string{
		`CREATE TABLE ` + sqliteStaging + ` AS SELECT * FROM ` + sqliteTasks + ` ORDER BY domain, shop_id, variant_id`,
		`CREATE TABLE ` + sqliteF1 + ` AS SELECT * FROM ` + sqliteTasks + ` WHERE false`, // columns only
	}, f3...)
	for _, stmt := range ddl {
		if err := d.exec(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
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

// stagePerimeter writes the pairs of in, in primary-key order, and the
// latest snapshot date of each of its domains, into tables of their own.
func (d *sqliteDatabase) stagePerimeter(ctx context.Context, in batchInput) (err error) {
	tx, err := d.DB().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
			err = fmt.Errorf("sqlite: staging the perimeter: %w", err)
		}
	}()
	for _, ddl := range []string{
		`CREATE TABLE ` + sqlitePairs + ` (variant_id TEXT NOT NULL, shop_id TEXT NOT NULL, PRIMARY KEY (variant_id, shop_id)) WITHOUT ROWID`,
		`CREATE TABLE ` + sqliteLatest + ` (domain TEXT NOT NULL, snapshot_date TEXT NOT NULL)`,
	} {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return err
		}
	}
	insert, err := tx.PrepareContext(ctx, `INSERT INTO `+sqlitePairs+` VALUES (?1, ?2)`)
	if err != nil {
		return err
	}
	defer insert.Close()
	for i := range in.variants {
		if _, err := insert.ExecContext(ctx, in.variants[i], in.shops[i]); err != nil {
			return err
		}
	}
	for _, domain := range in.domains {
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+sqliteLatest+`
			SELECT ?2, max(snapshot_date) FROM action_vector WHERE organization_id = ?1 AND domain = ?2 HAVING count(*) > 0`,
			in.org, domain); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// sqliteFloors are the floors on SQLite.
type sqliteFloors struct {
	d    *sqliteDatabase
	org  string
	rows [][]any
}

func (f *sqliteFloors) Rows() int { return len(f.rows) }

// readStaged reads the staged rows into memory for F1.
func (f *sqliteFloors) readStaged(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("sqlite: reading the staged rows: %w", err)
		}
	}()
	rows, err := f.d.DB().QueryContext(ctx, `SELECT `+taskColumns+` FROM `+sqliteStaging)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]any, len(taskColumnNames))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		f.rows = append(f.rows, vals)
	}
	return rows.Err()
}

// ReadFR reads every column a call needs of the latest action vectors of
// the staged perimeter, and returns only their sums: the pairs in
// primary-key order, then the domains, each candidate one probe of the
// primary key (CROSS JOIN fixes that order).
func (f *sqliteFloors) ReadFR(ctx context.Context) (rows int, err error) {
	return f.readFR(ctx, f.d.DB())
}

// CallFloor is F_R then F3 in one write transaction, begun as a call's
// (BEGIN IMMEDIATE) on a connection of the store's pool.
func (f *sqliteFloors) CallFloor(ctx context.Context, runID string) (err error) {
	conn, err := f.d.DB().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return fmt.Errorf("sqlite: F_RW: %w", err)
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		}
	}()
	if _, err := f.readFR(ctx, conn); err != nil {
		return err
	}
	if err := f.upsertF3(ctx, conn, runID); err != nil {
		return fmt.Errorf("sqlite: F_RW: %w", err)
	}
	_, err = conn.ExecContext(ctx, `COMMIT`)
	return err
}

// queryRower is a pool or a connection.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (f *sqliteFloors) readFR(ctx context.Context, q queryRower) (rows int, err error) {
	var evidence, qty sql.NullInt64
	var discount, confidence sql.NullFloat64
	err = q.QueryRowContext(ctx, `
		SELECT count(*), sum(octet_length(v.decision_vector_snapshot)), sum(v.recommended_qty),
		       sum(v.recommended_discount_pct), sum(v.recommendation_confidence)
		FROM `+sqlitePairs+` AS p
		CROSS JOIN `+sqliteLatest+` AS l
		CROSS JOIN action_vector AS v
		WHERE v.organization_id = ?1 AND v.variant_id = p.variant_id AND v.shop_id = p.shop_id
		  AND v.snapshot_date = l.snapshot_date AND v.domain = l.domain`, f.org).Scan(&rows, &evidence, &qty, &discount, &confidence)
	if err != nil {
		return 0, fmt.Errorf("sqlite: F_R: %w", err)
	}
	return rows, nil
}

func (f *sqliteFloors) ClearF1(ctx context.Context) error {
	return f.d.exec(ctx, `DELETE FROM `+sqliteF1)
}

// LoadF1 inserts the rows in one transaction.
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
	if err := insertAll(ctx, tx, sqliteF1, f.rows); err != nil {
		return err
	}
	return tx.Commit()
}

// insertAll inserts rows of the tasks table's columns into table,
// sqliteRowsPerInsert rows per execution of one prepared statement, and
// the remainder with a second.
func insertAll(ctx context.Context, tx *sql.Tx, table string, rows [][]any) error {
	full := rows[:len(rows)/sqliteRowsPerInsert*sqliteRowsPerInsert]
	if err := insertRows(ctx, tx, table, full, sqliteRowsPerInsert); err != nil {
		return err
	}
	return insertRows(ctx, tx, table, rows[len(full):], len(rows)-len(full))
}

// insertRows inserts rows, perStatement at a time, with one prepared
// statement.
func insertRows(ctx context.Context, tx *sql.Tx, table string, rows [][]any, perStatement int) error {
	if len(rows) == 0 {
		return nil
	}
	row := "(" + strings.Repeat("?,", 15) + "?)"
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO `+table+` (`+taskColumns+`) VALUES `+
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

func (f *sqliteFloors) CountF3(ctx context.Context, runID string) (rows, ofRun int, err error) {
	err = f.d.DB().QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE workflow_run_id = ?1) FROM `+sqliteF3,
		runID).Scan(&rows, &ofRun)
	return rows, ofRun, err
}

func (f *sqliteFloors) ClearF3(ctx context.Context) error {
	return f.d.exec(ctx, `DELETE FROM `+sqliteF3)
}

// UpsertF3 needs WHERE true: SQLite's rule for INSERT ... SELECT ... ON CONFLICT.
func (f *sqliteFloors) UpsertF3(ctx context.Context, runID string) error {
	if err := f.upsertF3(ctx, f.d.DB(), runID); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

func (f *sqliteFloors) upsertF3(ctx context.Context, q execer, runID string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO `+sqliteF3+` (`+taskColumns+`)
		SELECT `+stagedAsRun("?1", "?2")+` FROM `+sqliteStaging+` WHERE true`+openKeyConflict,
		runID, sqliteTimestamp(time.Now()))
	return err
}
