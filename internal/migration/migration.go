// Package migration loads and applies the embedded, versioned schema steps
// of the adapters: files named "<version>_<name>.sql", applied once each, in
// version order, each recorded in a bookkeeping table.
package migration

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/actionvector/tasks/internal/sqldb"
)

// Migration is one schema step.
type Migration struct {
	Version int
	Name    string // the file's base name
	SQL     string
}

// Load returns the migrations of fsys that match pattern, in version order.
// sqlOf returns the SQL of a file: its text, or a template rendered with the
// adapter's names.
func Load(fsys fs.FS, pattern string, sqlOf func(file string) (string, error)) ([]Migration, error) {
	files, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, file := range files {
		base := path.Base(file)
		prefix, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(prefix)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: name must start with a version number above 0", base)
		}
		text, err := sqlOf(file)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: text})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no migration matches %s", pattern)
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", ms[i-1].Name, ms[i].Name, ms[i].Version)
		}
	}
	return ms, nil
}

// Latest returns the highest version of ms, which Load never returns empty.
func Latest(ms []Migration) int { return ms[len(ms)-1].Version }

// Dialect is how an adapter keeps the record of its applied migrations.
type Dialect struct {
	// Lock holds the statements that make concurrent migrators queue, run
	// first; none where the transaction's start already does.
	Lock []string
	// Current selects the highest version applied, 0 when none.
	Current string
	// Record inserts a version and its name, the statement's two parameters.
	Record string
	// Wrap names the failed step and marks errors a retry may cure.
	Wrap func(step string, err error) error
}

// Apply runs on q, a transaction, every migration of ms above the highest
// version recorded, each followed by its record, in version order. It
// applies nothing when the database records a version ms does not know:
// the schema is newer than this library.
func Apply(ctx context.Context, q sqldb.Querier, d Dialect, ms []Migration) error {
	for _, lock := range d.Lock {
		if _, err := q.ExecContext(ctx, lock); err != nil {
			return d.Wrap("migrate", err)
		}
	}
	var current int
	if err := q.QueryRowContext(ctx, d.Current).Scan(&current); err != nil {
		return d.Wrap("migrate", err)
	}
	if latest := Latest(ms); current > latest {
		return d.Wrap("migrate", fmt.Errorf("the schema's version %d is newer than this library's %d", current, latest))
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		if _, err := q.ExecContext(ctx, m.SQL); err != nil {
			return d.Wrap("migrate "+m.Name, err)
		}
		if _, err := q.ExecContext(ctx, d.Record, m.Version, m.Name); err != nil {
			return d.Wrap("migrate "+m.Name, err)
		}
	}
	return nil
}
