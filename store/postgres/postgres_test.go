package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/actionvector/tasks/store/postgres"
	"github.com/actionvector/tasks/storetest"
)

// The tests run against the servers named by TASKS_TEST_POSTGRES_URL
// (PostgreSQL) and TASKS_TEST_CITUS_URL (a Citus coordinator), each test in
// a schema of its own that it drops afterwards. Without a variable the
// tests of that server skip; CI always sets both.
const urlVariable = "TASKS_TEST_POSTGRES_URL"

// server is a database the tests run on.
type server struct {
	variable string
	citus    bool
	once     sync.Once
	admin    *sql.DB       // a superuser's pool: schemas, roles, triggers
	app      *sql.DB       // the pool stores run on
	pgx      *pgxpool.Pool // a pgx pool of the stores' role, for the callers' pgx transactions
	err      error
}

var (
	single = &server{variable: urlVariable}
	// On Citus, stores run as a role whose intermediate results may not
	// exceed 16kB: a statement that goes through the coordinator instead of
	// running on one worker fails loudly instead of passing slowly.
	distributed = &server{variable: "TASKS_TEST_CITUS_URL", citus: true}
)

// citusRole is the role of the Citus tests' stores.
const citusRole = "tasks_citus_tester"

// pools returns the server's pools, or skips the test when its variable is
// not set.
func (srv *server) pools(t testing.TB) (admin, app *sql.DB) {
	t.Helper()
	dsn := os.Getenv(srv.variable)
	if dsn == "" {
		t.Skipf("%s is not set", srv.variable)
	}
	srv.once.Do(func() {
		srv.admin, srv.app, srv.err = srv.open(dsn)
		if srv.err == nil {
			srv.pgx, srv.err = pgxpool.New(context.Background(), srv.roleURL(dsn))
		}
	})
	if srv.err != nil {
		t.Fatalf("connect to %s: %v", srv.variable, srv.err)
	}
	return srv.admin, srv.app
}

func (srv *server) open(dsn string) (admin, app *sql.DB, err error) {
	ctx := context.Background()
	if admin, err = sql.Open("pgx", dsn); err != nil {
		return nil, nil, err
	}
	admin.SetMaxOpenConns(24)
	if err := admin.PingContext(ctx); err != nil || !srv.citus {
		return admin, admin, err
	}
	for _, stmt := range []string{
		`DO $$ BEGIN CREATE ROLE ` + citusRole + ` LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
		`ALTER ROLE ` + citusRole + ` SET citus.max_intermediate_result_size = '16kB'`,
		// Few shards: the tests make and drop hundreds of distributed tables.
		`ALTER ROLE ` + citusRole + ` SET citus.shard_count = 4`,
	} {
		if _, err := admin.ExecContext(ctx, stmt); err != nil {
			return admin, nil, fmt.Errorf("%s: %w", stmt, err)
		}
	}
	if app, err = sql.Open("pgx", srv.roleURL(dsn)); err != nil {
		return admin, nil, err
	}
	app.SetMaxOpenConns(24)
	return admin, app, app.PingContext(ctx)
}

func (srv *server) close() {
	if srv.pgx != nil {
		srv.pgx.Close()
	}
	for _, db := range []*sql.DB{srv.app, srv.admin} {
		if db != nil {
			db.Close()
		}
	}
}

// appURL returns the URL the server's stores connect with: on Citus, as
// the role with the 16kB limit.
func (srv *server) appURL(t testing.TB) string {
	t.Helper()
	srv.pools(t)
	return srv.roleURL(os.Getenv(srv.variable))
}

// roleURL returns dsn, on Citus as the stores' role.
func (srv *server) roleURL(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || !srv.citus {
		return dsn // a bad URL fails when it is opened
	}
	u.User = url.User(citusRole)
	return u.String()
}

// testPool returns the superuser pool of the single-node server.
func testPool(t testing.TB) *sql.DB {
	t.Helper()
	admin, _ := single.pools(t)
	return admin
}

// testURL returns the single-node server's URL, or skips the test when
// none is set.
func testURL(t testing.TB) string {
	t.Helper()
	testPool(t)
	return os.Getenv(urlVariable)
}

func TestMain(m *testing.M) {
	code := m.Run()
	single.close()
	distributed.close()
	os.Exit(code)
}

// newSchema creates an empty schema on the single-node server for one test
// and drops it afterwards.
func newSchema(t testing.TB) string { return single.newSchema(t) }

// newSchema creates an empty schema for one test, which the stores' role
// owns, and drops it afterwards.
func (srv *server) newSchema(t testing.TB) string {
	t.Helper()
	admin, _ := srv.pools(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "tasks_test_" + hex.EncodeToString(b)
	ddl := `CREATE SCHEMA ` + schema
	if srv.citus {
		ddl += ` AUTHORIZATION ` + citusRole
	}
	if _, err := admin.ExecContext(t.Context(), ddl); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// newStore returns a migrated store on fresh tables in a schema of its own
// on the single-node server.
func newStore(t testing.TB, opts ...postgres.Option) *postgres.Store {
	return single.newStore(t, opts...)
}

// newStore returns a migrated store on fresh tables in a schema of its own.
func (srv *server) newStore(t testing.TB, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	_, app := srv.pools(t)
	return srv.newStoreWith(t, func(opts ...postgres.Option) *postgres.Store { return postgres.New(app, opts...) }, opts...)
}

// newPoolStore returns a migrated store on the server's pgx pool
// (NewFromPool), on fresh tables in a schema of its own.
func (srv *server) newPoolStore(t testing.TB, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	srv.pools(t)
	return srv.newStoreWith(t, func(opts ...postgres.Option) *postgres.Store { return postgres.NewFromPool(srv.pgx, opts...) }, opts...)
}

// newStoreWith returns a migrated store that build makes, on fresh tables
// in a schema of its own.
func (srv *server) newStoreWith(t testing.TB, build func(...postgres.Option) *postgres.Store, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	schema := srv.newSchema(t)
	opts = append([]postgres.Option{
		postgres.WithTasksTable(schema + ".tasks"),
		postgres.WithActionVectorTable(schema + ".action_vector"),
	}, opts...)
	// No WithCitus on Citus either: the store finds the extension itself.
	s := build(opts...)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	schemas.Store(storetest.Store(s), storeHome{schema: schema, server: srv, opts: opts})
	return s
}

// features are the Features of a server's stores.
func (srv *server) features() storetest.Features {
	return storetest.Features{
		FailTaskWrites:  failTaskWrites,
		StallTaskWrites: stallTaskWrites,
		DelayCommits:    delayCommits,
		WithTx:          func(s storetest.Store, tx *sql.Tx) storetest.Store { return s.(*postgres.Store).WithTx(tx) },
		CallerTxs:       map[string]storetest.BeginTx{"pgx.Tx": srv.beginPgxTx},
	}
}

// beginPgxTx begins a pgx transaction on the server's pgx pool and binds
// to it a store built on that pool with the options of s.
func (srv *server) beginPgxTx(ctx context.Context, s storetest.Store) (storetest.Store, func(bool) error, error) {
	tx, err := srv.pgx.Begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	end := func(commit bool) error {
		if commit {
			return tx.Commit(ctx)
		}
		return tx.Rollback(ctx)
	}
	return postgres.NewFromPool(srv.pgx, homeOf(s).opts...).WithPgxTx(tx), end, nil
}

func TestConformance(t *testing.T) {
	storetest.RunWith(t, func(t *testing.T) storetest.Store { return newStore(t) }, single.features())
}

// TestConformanceOnPool runs the suite on a store built on a pgx pool,
// whose statements run with pgx's own API.
func TestConformanceOnPool(t *testing.T) {
	storetest.RunWith(t, func(t *testing.T) storetest.Store { return single.newPoolStore(t) }, single.features())
}

// TestConformanceInChunks runs the suite with tiny chunks, so every batch
// takes several statements in one transaction.
func TestConformanceInChunks(t *testing.T) {
	storetest.RunWith(t, func(t *testing.T) storetest.Store { return newStore(t, postgres.WithChunkSize(7)) }, single.features())
}

// TestConformanceOnCitus runs the suite on the distributed layout.
func TestConformanceOnCitus(t *testing.T) {
	storetest.RunWith(t, func(t *testing.T) storetest.Store { return distributed.newStore(t) }, distributed.features())
}

// schemas maps each store of a test to its storeHome.
var schemas sync.Map

// storeHome is where a test's store lives: its schema, where the test
// helpers put their triggers, and its server.
type storeHome struct {
	schema string
	server *server
	opts   []postgres.Option // the options it was made with, its tables included
}

func homeOf(s storetest.Store) storeHome {
	v, _ := schemas.Load(s)
	return v.(storeHome)
}

func storeSchema(s storetest.Store) string { return homeOf(s).schema }

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// onTaskWrite installs a trigger that runs body before any insert or update
// of a task whose shop is shopID.
func onTaskWrite(t *testing.T, s storetest.Store, shopID, body string) string {
	t.Helper()
	return installTrigger(t, s, "BEFORE INSERT OR UPDATE", "",
		fmt.Sprintf("IF NEW.shop_id = %s THEN %s; END IF; RETURN NEW;", sqlString(shopID), body))
}

// installTrigger creates, on the tasks table of s, a row trigger firing at
// when (with the clauses of a constraint trigger when constraint is set)
// that runs the PL/pgSQL body. It returns the store's schema.
func installTrigger(t *testing.T, s storetest.Store, when, constraint, body string) string {
	t.Helper()
	home := homeOf(s)
	schema := home.schema
	name := fmt.Sprintf("test_hook_%d", hookSeq())
	kind := ""
	if constraint != "" {
		kind = "CONSTRAINT"
	}
	// One command at a time: Citus sends each to the workers on its own.
	steps := []string{
		fmt.Sprintf(`CREATE FUNCTION %[1]s.%[2]s() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN %[3]s END $$`, schema, name, body),
		fmt.Sprintf(`CREATE %[3]s TRIGGER %[2]s %[4]s ON %[1]s.tasks %[5]s FOR EACH ROW EXECUTE FUNCTION %[1]s.%[2]s()`,
			schema, name, kind, when, constraint),
	}
	admin, _ := home.server.pools(t)
	conn, err := admin.Conn(t.Context())
	if err != nil {
		t.Fatalf("install trigger: %v", err)
	}
	defer conn.Close()
	if home.server.citus {
		// Citus creates triggers on distributed tables only when asked to:
		// each shard runs its own, and may not read other shards.
		steps = append([]string{`SET citus.enable_unsafe_triggers TO on`}, append(steps, `RESET citus.enable_unsafe_triggers`)...)
	}
	for _, step := range steps {
		if _, err := conn.ExecContext(t.Context(), step); err != nil {
			t.Fatalf("install trigger: %v", err)
		}
	}
	return schema
}

var (
	seqMu sync.Mutex
	seq   int
)

func hookSeq() int {
	seqMu.Lock()
	defer seqMu.Unlock()
	seq++
	return seq
}

func failTaskWrites(t *testing.T, s storetest.Store, shopID string) {
	onTaskWrite(t, s, shopID, `RAISE EXCEPTION 'injected failure'`)
}

// stallTaskWrites makes the write sleep in the server; cancelling the
// context cancels the statement, so release has nothing to do.
func stallTaskWrites(t *testing.T, s storetest.Store, shopID string) (<-chan struct{}, func()) {
	schema := onTaskWrite(t, s, shopID, `PERFORM pg_sleep(60)`)
	// The sleeping backend holds a lock on the test's tasks table; its
	// query text may not show the schema, since pg_stat_activity keeps
	// only its first 1kB. On Citus the sleep is on a worker, whose query,
	// deparsed by Citus without comments, names the shard's schema early.
	sleeping := `SELECT EXISTS (SELECT FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
		WHERE a.wait_event = 'PgSleep' AND l.relation = to_regclass($1 || '.tasks'))`
	if homeOf(s).server.citus {
		sleeping = `SELECT EXISTS (SELECT 1 FROM citus_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%' || $1 || '%')`
	}
	admin, _ := homeOf(s).server.pools(t)
	reached := make(chan struct{})
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go func() {
		for {
			var asleep bool
			err := admin.QueryRowContext(ctx, sleeping, schema).Scan(&asleep)
			if err == nil && asleep {
				close(reached)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return reached, func() {}
}

// delayCommits installs a deferred constraint trigger, which runs during
// COMMIT, that sleeps once per transaction writing tasks.
func delayCommits(t *testing.T, s storetest.Store, d time.Duration) {
	t.Helper()
	installTrigger(t, s, "AFTER INSERT OR UPDATE", "DEFERRABLE INITIALLY DEFERRED", fmt.Sprintf(`
		IF current_setting('tasks_test.delayed', true) IS DISTINCT FROM 'yes' THEN
			PERFORM set_config('tasks_test.delayed', 'yes', true);
			PERFORM pg_sleep(%f);
		END IF;
		RETURN NULL;`, d.Seconds()))
}
