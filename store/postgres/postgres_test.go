package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/actionvector/tasks/store/postgres"
	"github.com/actionvector/tasks/storetest"
)

// The tests run against the server named by TASKS_TEST_POSTGRES_URL, each
// in a schema of its own that it drops afterwards. Without the variable
// they skip; CI always sets it.
const urlVariable = "TASKS_TEST_POSTGRES_URL"

var (
	poolOnce sync.Once
	pool     *sql.DB
	poolErr  error
)

// testPool returns the pool shared by every test of the package.
func testPool(t testing.TB) *sql.DB {
	t.Helper()
	url := testURL(t)
	poolOnce.Do(func() {
		pool, poolErr = sql.Open("pgx", url)
		if poolErr == nil {
			pool.SetMaxOpenConns(24)
			poolErr = pool.PingContext(context.Background())
		}
	})
	if poolErr != nil {
		t.Fatalf("connect to %s: %v", urlVariable, poolErr)
	}
	return pool
}

// testURL returns the server's URL, or skips the test when none is set.
func testURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(urlVariable)
	if url == "" {
		t.Skipf("%s is not set", urlVariable)
	}
	return url
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pool != nil {
		pool.Close()
	}
	os.Exit(code)
}

// newSchema creates an empty schema for one test and drops it afterwards.
func newSchema(t testing.TB) string {
	t.Helper()
	db := testPool(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "tasks_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(t.Context(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// newStore returns a migrated store on fresh tables in a schema of its own.
func newStore(t testing.TB, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	schema := newSchema(t)
	opts = append([]postgres.Option{
		postgres.WithTasksTable(schema + ".tasks"),
		postgres.WithActionVectorTable(schema + ".action_vector"),
	}, opts...)
	s := postgres.New(testPool(t), opts...)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	schemas.Store(storetest.Store(s), schema)
	return s
}

func TestConformance(t *testing.T) {
	storetest.RunWith(t, func(t *testing.T) storetest.Store { return newStore(t) }, storetest.Features{
		FailTaskWrites:  failTaskWrites,
		StallTaskWrites: stallTaskWrites,
		DelayCommits:    delayCommits,
		WithTx:          func(s storetest.Store, tx *sql.Tx) storetest.Store { return s.(*postgres.Store).WithTx(tx) },
	})
}

// TestConformanceInChunks runs the suite with tiny chunks, so every batch
// takes several statements in one transaction.
func TestConformanceInChunks(t *testing.T) {
	storetest.RunWith(t, func(t *testing.T) storetest.Store { return newStore(t, postgres.WithChunkSize(7)) }, storetest.Features{
		FailTaskWrites:  failTaskWrites,
		StallTaskWrites: stallTaskWrites,
		DelayCommits:    delayCommits,
		WithTx:          func(s storetest.Store, tx *sql.Tx) storetest.Store { return s.(*postgres.Store).WithTx(tx) },
	})
}

// schemas maps each store of a test to its schema, where the test helpers
// put their triggers.
var schemas sync.Map

func storeSchema(s storetest.Store) string {
	v, _ := schemas.Load(s)
	return v.(string)
}

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
	schema := storeSchema(s)
	name := fmt.Sprintf("test_hook_%d", hookSeq())
	kind := ""
	if constraint != "" {
		kind = "CONSTRAINT"
	}
	ddl := fmt.Sprintf(`
		CREATE FUNCTION %[1]s.%[2]s() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN %[3]s END $$;
		CREATE %[4]s TRIGGER %[2]s %[5]s ON %[1]s.tasks %[6]s FOR EACH ROW EXECUTE FUNCTION %[1]s.%[2]s();`,
		schema, name, body, kind, when, constraint)
	if _, err := s.(*postgres.Store).DB().ExecContext(t.Context(), ddl); err != nil {
		t.Fatalf("install trigger: %v", err)
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
	reached := make(chan struct{})
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go func() {
		for {
			var sleeping bool
			err := s.(*postgres.Store).DB().QueryRowContext(ctx,
				`SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%' || $1 || '%')`,
				schema).Scan(&sleeping)
			if err == nil && sleeping {
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
