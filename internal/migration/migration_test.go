package migration_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	_ "modernc.org/sqlite"

	"github.com/actionvector/tasks/internal/migration"
)

func text(fsys fstest.MapFS) func(string) (string, error) {
	return func(file string) (string, error) {
		b, err := fsys.ReadFile(file)
		return string(b), err
	}
}

func TestLoadOrdersByVersion(t *testing.T) {
	fsys := fstest.MapFS{
		"m/10_later.sql": {Data: []byte("C")},
		"m/2_second.sql": {Data: []byte("B")},
		"m/1_first.sql":  {Data: []byte("A")},
		"m/notes.txt":    {Data: []byte("ignored")},
	}
	ms, err := migration.Load(fsys, "m/*.sql", text(fsys))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Name+"="+m.SQL)
	}
	if want := "1_first.sql=A 2_second.sql=B 10_later.sql=C"; strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	if migration.Latest(ms) != 10 {
		t.Errorf("latest version: got %d, want 10", migration.Latest(ms))
	}
}

func TestLoadRejectsBadSets(t *testing.T) {
	tests := map[string]fstest.MapFS{
		"no version":     {"m/init.sql": {}},
		"version 0":      {"m/0_init.sql": {}},
		"shared version": {"m/1_a.sql": {}, "m/01_b.sql": {}},
		"none":           {"m/readme.txt": {}},
	}
	for name, fsys := range tests {
		if _, err := migration.Load(fsys, "m/*.sql", text(fsys)); err == nil {
			t.Errorf("%s: want an error, got none", name)
		}
	}
}

func TestApplyRunsEachMigrationOnceInOrder(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, `CREATE TABLE applied (version INTEGER PRIMARY KEY, name TEXT); CREATE TABLE log (step TEXT)`); err != nil {
		t.Fatal(err)
	}
	d := migration.Dialect{
		Current: `SELECT coalesce(max(version), 0) FROM applied`,
		Record:  `INSERT INTO applied (version, name) VALUES (?1, ?2)`,
		Wrap:    func(step string, err error) error { return fmt.Errorf("%s: %w", step, err) },
	}
	step := func(v int, name string) migration.Migration {
		return migration.Migration{Version: v, Name: name, SQL: `INSERT INTO log VALUES ('` + name + `')`}
	}
	first := []migration.Migration{step(1, "1_a.sql"), step(2, "2_b.sql")}
	later := append(first, step(5, "5_c.sql"))
	for _, ms := range [][]migration.Migration{first, first, later, later} {
		if err := migration.Apply(ctx, db, d, ms); err != nil {
			t.Fatalf("Apply: %v", err)
		}
	}
	var log string
	if err := db.QueryRowContext(ctx, `SELECT group_concat(step, ' ') FROM log`).Scan(&log); err != nil {
		t.Fatal(err)
	}
	if want := "1_a.sql 2_b.sql 5_c.sql"; log != want {
		t.Errorf("migrations run: got %q, want %q", log, want)
	}
	err = migration.Apply(ctx, db, d, first)
	if err == nil || !strings.Contains(err.Error(), "version 5 is newer than this library's 2") {
		t.Errorf("Apply of an older set: want an error naming both versions, got %v", err)
	}
}
