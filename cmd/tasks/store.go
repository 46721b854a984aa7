package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/store/postgres"
	"github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/taskcreate"
)

// The PostgreSQL store's table names when no flag names them.
const (
	defaultTasksTable        = "tasks"
	defaultActionVectorTable = "action_vector"
)

// storeConfig is the database the flags name and how to open it.
type storeConfig struct {
	sqlitePath        string
	databaseURL       string // PostgreSQL when set
	citus             bool
	tasksTable        string
	actionVectorTable string
	maxConns          int // PostgreSQL's pool
}

// addStoreFlags defines the flags of the store on fs, and returns the
// configuration they fill in.
func addStoreFlags(fs *flag.FlagSet) *storeConfig {
	c := &storeConfig{maxConns: postgres.DefaultMaxConns}
	fs.StringVar(&c.sqlitePath, "db", "tasks.db", "SQLite database `file`, used when no database URL is set")
	fs.StringVar(&c.databaseURL, "database-url", "", "PostgreSQL `URL` (postgres://user@host/db); when set, the store is PostgreSQL")
	fs.BoolVar(&c.citus, "citus", false, "PostgreSQL is a Citus coordinator: fail unless the citus extension is there")
	fs.StringVar(&c.tasksTable, "tasks-table", defaultTasksTable, "PostgreSQL tasks `table`, \"table\" or \"schema.table\"")
	fs.StringVar(&c.actionVectorTable, "action-vector-table", defaultActionVectorTable,
		"PostgreSQL action-vector `table`, \"table\" or \"schema.table\" (a read-only mirror is fine)")
	return c
}

// check refuses flags that do not apply to the store they name, or that
// the store would refuse.
func (c *storeConfig) check() error {
	if c.databaseURL == "" {
		for _, f := range []struct {
			name    string
			changed bool
		}{
			{"citus", c.citus},
			{"tasks-table", c.tasksTable != defaultTasksTable},
			{"action-vector-table", c.actionVectorTable != defaultActionVectorTable},
		} {
			if f.changed {
				return invalidf("-%s applies to PostgreSQL only; give -database-url (or DATABASE_URL), or leave it out for SQLite", f.name)
			}
		}
		return nil
	}
	for _, f := range []struct {
		name string
		opt  postgres.Option
	}{
		{"tasks-table", postgres.WithTasksTable(c.tasksTable)},
		{"action-vector-table", postgres.WithActionVectorTable(c.actionVectorTable)},
		{"max-conns", postgres.WithMaxConns(c.maxConns)},
	} {
		if err := postgres.CheckOptions(f.opt); err != nil {
			return invalidf("-%s: %w", f.name, err)
		}
	}
	return nil
}

// parseStoreFlags parses the flags of a command on the store that takes
// at most maxArgs arguments, checks the store's flags, and returns the
// arguments.
func parseStoreFlags(fs *flag.FlagSet, args []string, p process, h help, c *storeConfig, maxArgs int) ([]string, error) {
	rest, err := parseFlags(fs, args, p, h)
	if err != nil {
		return nil, err
	}
	if len(rest) > maxArgs {
		return nil, invalidf("unexpected arguments %q (tasks %s -h shows the usage)", rest[maxArgs:], fs.Name())
	}
	return rest, c.check()
}

// postgresOptions returns the options of the PostgreSQL store.
func (c *storeConfig) postgresOptions() []postgres.Option {
	opts := []postgres.Option{postgres.WithTasksTable(c.tasksTable), postgres.WithActionVectorTable(c.actionVectorTable),
		postgres.WithMaxConns(c.maxConns)}
	if c.citus {
		opts = append(opts, postgres.WithCitus())
	}
	return opts
}

// taskStore is what the commands need of a store adapter.
type taskStore interface {
	taskcreate.TaskStore
	PutActionVectors(ctx context.Context, rows []taskcreate.ActionVector) error
	DB() *sql.DB
	Close() error
}

// openStore opens and migrates the database c names: PostgreSQL when it
// has a database URL, else the SQLite file. It also returns a description
// of the database for the log, free of credentials. It is a variable so
// that a test can put a store that fails in the real one's place.
var openStore = func(ctx context.Context, c storeConfig) (taskStore, string, error) {
	if c.databaseURL != "" {
		s, err := postgres.Open(ctx, c.databaseURL, c.postgresOptions()...)
		if err != nil {
			return nil, "", err
		}
		return s, "postgres", nil
	}
	s, err := sqlite.Open(ctx, c.sqlitePath)
	if err != nil {
		return nil, "", err
	}
	return s, "sqlite:" + c.sqlitePath, nil
}

// deferredStore opens the store at its first use, so that a request that
// fails validation, or a file whose first record is bad, never opens or
// migrates the database. A failed open is tried again at the next use,
// which CreateTasks makes when the failure is transient.
type deferredStore struct {
	config storeConfig
	store  taskStore
}

func (d *deferredStore) open(ctx context.Context) (taskStore, error) {
	if d.store == nil {
		s, _, err := openStore(ctx, d.config)
		if err != nil {
			return nil, err
		}
		d.store = s
	}
	return d.store, nil
}

func (d *deferredStore) MaterializeTasks(ctx context.Context, b *store.Batch) (store.Outcome, error) {
	s, err := d.open(ctx)
	if err != nil {
		return store.Outcome{}, err
	}
	return s.MaterializeTasks(ctx, b)
}

func (d *deferredStore) SweepTasks(ctx context.Context, sw *store.Sweep) (int, error) {
	s, err := d.open(ctx)
	if err != nil {
		return 0, err
	}
	return s.SweepTasks(ctx, sw)
}

func (d *deferredStore) PutActionVectors(ctx context.Context, rows []taskcreate.ActionVector) error {
	s, err := d.open(ctx)
	if err != nil {
		return err
	}
	return s.PutActionVectors(ctx, rows)
}

// Close closes the store if it was opened.
func (d *deferredStore) Close() error {
	if d.store == nil {
		return nil
	}
	return d.store.Close()
}

// schemaStore is what migrate and version need of a store.
type schemaStore interface {
	Migrate(ctx context.Context) error
	SchemaVersion(ctx context.Context) (int, error)
	PendingMigrations(ctx context.Context) ([]string, error)
}

// openSchema opens the database c names without migrating it, on a pool
// of one connection that the returned function closes. readOnly opens a
// SQLite file for reading only, and a file that does not exist as an
// empty database rather than creating it.
func openSchema(c storeConfig, readOnly bool) (schemaStore, func() error, error) {
	if c.databaseURL != "" {
		db, err := sql.Open("pgx", c.databaseURL)
		if err != nil {
			return nil, nil, fmt.Errorf("postgres: open: %w", err)
		}
		db.SetMaxOpenConns(1)
		return postgres.New(db, c.postgresOptions()...), db.Close, nil
	}
	dsn := sqliteDSN(c.sqlitePath, "busy_timeout(5000)")
	if readOnly {
		dsn = sqliteDSN(c.sqlitePath, "busy_timeout(5000)", "query_only(1)")
		if _, err := os.Stat(c.sqlitePath); errors.Is(err, fs.ErrNotExist) {
			dsn = ":memory:"
		}
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db.SetMaxOpenConns(1)
	return sqlite.New(db), db.Close, nil
}

// onSchema runs f on the database c names, opened by openSchema, and
// closes it.
func onSchema(c storeConfig, readOnly bool, f func(schemaStore) error) error {
	s, closeDB, err := openSchema(c, readOnly)
	if err != nil {
		return err
	}
	defer closeDB()
	return f(s)
}

// sqliteDSN returns path with the connection pragmas added.
func sqliteDSN(path string, pragmas ...string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "_pragma=" + strings.Join(pragmas, "&_pragma=")
}
