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
	// Exists selects whether the bookkeeping table exists, so that reading
	// the version of a database never migrated is not an error.
	Exists string
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
	pending, err := Pending(ms, current)
	if err != nil {
		return d.Wrap("migrate", err)
	}
	for _, m := range pending {
		if _, err := q.ExecContext(ctx, m.SQL); err != nil {
			return d.Wrap("migrate "+m.Name, err)
		}
		if _, err := q.ExecContext(ctx, d.Record, m.Version, m.Name); err != nil {
			return d.Wrap("migrate "+m.Name, err)
		}
	}
	return nil
}

// Applied returns the highest version recorded on q, 0 when the
// bookkeeping table does not exist yet. It writes nothing.
func Applied(ctx context.Context, q sqldb.Querier, d Dialect) (int, error) {
	var exists bool
	if err := q.QueryRowContext(ctx, d.Exists).Scan(&exists); err != nil {
		return 0, d.Wrap("schema version", err)
	}
	if !exists {
		return 0, nil
	}
	var current int
	if err := q.QueryRowContext(ctx, d.Current).Scan(&current); err != nil {
		return 0, d.Wrap("schema version", err)
	}
	return current, nil
}

// Pending returns the migrations of ms above version current, the ones
// Apply would run, in version order; an error when current is above them
// all: the schema is newer than this library.
func Pending(ms []Migration, current int) ([]Migration, error) {
	if latest := Latest(ms); current > latest {
		return nil, fmt.Errorf("the schema's version %d is newer than this library's %d", current, latest)
	}
	i := 0
	for i < len(ms) && ms[i].Version <= current {
		i++
	}
	return ms[i:], nil
}

// PendingNames returns the names of the migrations of ms that Apply would
// run on q, in order, reading the version as Applied does. It writes
// nothing.
func PendingNames(ctx context.Context, q sqldb.Querier, d Dialect, ms []Migration) ([]string, error) {
	current, err := Applied(ctx, q, d)
	if err != nil {
		return nil, err
	}
	pending, err := Pending(ms, current)
	if err != nil {
		return nil, d.Wrap("pending migrations", err)
	}
	names := make([]string, len(pending))
	for i, m := range pending {
		names[i] = m.Name
	}
	return names, nil
}
