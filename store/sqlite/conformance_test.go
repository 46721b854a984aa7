package sqlite_test

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/sqlite"

	tasksqlite "github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/storetest"
)

func TestConformance(t *testing.T) {
	storetest.RunWith(t, newMemoryStore, storetest.Features{
		FailTaskWrites:  failTaskWrites,
		StallTaskWrites: stallTaskWrites,
		DelayCommits:    delayCommits,
		WithTx:          func(s storetest.Store, tx *sql.Tx) storetest.Store { return s.(*tasksqlite.Store).WithTx(tx) },
	})
}

// delayCommits sleeps in a commit hook of the store's one connection.
func delayCommits(t *testing.T, s storetest.Store, d time.Duration) {
	t.Helper()
	conn, err := s.(*tasksqlite.Store).DB().Conn(t.Context())
	if err != nil {
		t.Fatalf("delay commits: %v", err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		dc.(sqlite.HookRegisterer).RegisterCommitHook(func() int32 {
			time.Sleep(d)
			return 0 // go on with the commit
		})
		return nil
	})
	if err != nil {
		t.Fatalf("delay commits: %v", err)
	}
}

func newMemoryStore(t *testing.T) storetest.Store {
	t.Helper()
	s, err := tasksqlite.Open(t.Context(), ":memory:")
	if err != nil {
		t.Fatalf("open in-memory store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sqlString quotes s as an SQL string literal, for trigger bodies, which
// cannot take parameters.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// onTaskWrite installs triggers that run body before any insert or update of
// a task whose shop is shopID.
func onTaskWrite(t *testing.T, s storetest.Store, shopID, body string) {
	t.Helper()
	db := s.(*tasksqlite.Store).DB()
	for i, event := range []string{"INSERT", "UPDATE"} {
		ddl := fmt.Sprintf(`CREATE TRIGGER test_hook_%d_%d BEFORE %s ON tasks WHEN NEW.shop_id = %s BEGIN %s; END`,
			hookSeq.Add(1), i, event, sqlString(shopID), body)
		if _, err := db.ExecContext(t.Context(), ddl); err != nil {
			t.Fatalf("install trigger: %v", err)
		}
	}
}

var hookSeq atomic.Int64

func failTaskWrites(t *testing.T, s storetest.Store, shopID string) {
	onTaskWrite(t, s, shopID, `SELECT RAISE(ABORT, 'injected failure')`)
}

// stalls holds, per token, the stall a trigger's call to test_stall(token)
// waits on.
var stalls sync.Map

type stall struct {
	reached, released chan struct{}
	once              sync.Once
}

func init() {
	sqlite.MustRegisterScalarFunction("test_stall", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		v, ok := stalls.Load(args[0])
		if !ok {
			return nil, fmt.Errorf("test_stall: unknown token %v", args[0])
		}
		st := v.(*stall)
		st.once.Do(func() { close(st.reached) })
		<-st.released
		return nil, nil
	})
}

func stallTaskWrites(t *testing.T, s storetest.Store, shopID string) (<-chan struct{}, func()) {
	token := fmt.Sprintf("stall-%d", hookSeq.Add(1))
	st := &stall{reached: make(chan struct{}), released: make(chan struct{})}
	stalls.Store(token, st)
	var release sync.Once
	releaseFn := func() { release.Do(func() { close(st.released) }) }
	t.Cleanup(releaseFn)
	onTaskWrite(t, s, shopID, "SELECT test_stall("+sqlString(token)+")")
	return st.reached, releaseFn
}
