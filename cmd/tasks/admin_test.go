package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actionvector/tasks/store/postgres"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get fetches url without a token and returns the status and the body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(data)
}

// adminOf returns the admin address the server logged in out.
func adminOf(t *testing.T, out *syncBuffer) string {
	t.Helper()
	return loggedAddr(t, out, adminAddr, "admin")
}

// The admin listener answers without the token, serves the calls' metrics
// in Prometheus text format, and shares nothing with the API's listener.
func TestAdminEndpoints(t *testing.T) {
	addr, out, stop := startInProcess(t, map[string]string{tokenEnv: testToken})
	admin := adminOf(t, out)
	require.NotEqual(t, addr, admin)

	status, body := get(t, "http://"+admin+healthPath)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "ok\n", body)
	status, body = get(t, "http://"+admin+readyPath)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "ready\n", body)

	resp, _ := post(t, addr, testToken, seedBody)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	status, metrics := get(t, "http://"+admin+metricsPath)
	require.Equal(t, http.StatusOK, status)
	// The seeding call (two positions of the zombie run) and the reference
	// request each created two tasks.
	for _, want := range []string{
		`(?m)^actionvector_tasks_candidates_total\{[^}]*actionvector_outcome="created"[^}]*\} 4$`,
		`(?m)^actionvector_tasks_call_duration_seconds_count\{[^}]*actionvector_operation="create"[^}]*actionvector_result="success"[^}]*\} 2$`,
		`(?m)^go_goroutines `,
		`(?m)^go_sql_max_open_connections\{db_name="tasks"\} `,
	} {
		assert.Regexp(t, regexp.MustCompile(want), metrics)
	}
	assert.NotContains(t, metrics, "variant-uuid", "no perimeter identifier in a metric")

	// The admin endpoints are not on the API's listener, nor the API on
	// the admin one.
	status, _ = get(t, "http://"+addr+healthPath)
	assert.Equal(t, http.StatusNotFound, status)
	resp, _ = postTo(t, admin, taskhttpPath, testToken, seedBody)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = postTo(t, admin, metricsPath, testToken, "")
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	require.NoError(t, stop())
}

// readyz fetches GET /readyz at base, with a client that waits far longer
// than readyTimeout, so the answer's time is the handler's own, and
// returns the status, the body and how long the answer took.
func readyz(t *testing.T, base string) (int, string, time.Duration) {
	t.Helper()
	a := fetchReadyz(t.Context(), base)
	require.NoError(t, a.err, "GET /readyz did not answer within 10 times its timeout")
	return a.status, a.body, a.took
}

// readyzAnswer is what fetchReadyz got.
type readyzAnswer struct {
	status int
	body   string
	took   time.Duration
	err    error
}

// fetchReadyz is readyz for goroutines other than the test's, which must
// not stop the test.
func fetchReadyz(ctx context.Context, base string) readyzAnswer {
	ctx, cancel := context.WithTimeout(ctx, 10*readyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+readyPath, nil)
	if err != nil {
		return readyzAnswer{err: err}
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return readyzAnswer{err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return readyzAnswer{status: resp.StatusCode, body: string(data), took: time.Since(start), err: err}
}

// serveAdmin serves the admin endpoints with ready's check and returns
// their base URL.
func serveAdmin(t *testing.T, ready *readiness) string {
	t.Helper()
	server := httptest.NewServer(adminHandler(ready, prometheus.NewRegistry(), slog.New(slog.DiscardHandler)))
	t.Cleanup(server.Close)
	return server.URL
}

// GET /readyz answers 200 while every connection of the calls' pool is
// taken, each in a transaction as a call holds it, on SQLite (whose
// writer then holds the write lock) and on PostgreSQL: it checks the
// database on a connection of its own.
func TestReadyzWhileCallsHoldEveryConnection(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		readyWhileSaturated(t, storeConfig{sqlitePath: filepath.Join(t.TempDir(), "tasks.db")}, "BEGIN IMMEDIATE")
	})
	t.Run("postgres", func(t *testing.T) {
		url, _, _ := postgresSchema(t)
		readyWhileSaturated(t, storeConfig{databaseURL: url, tasksTable: defaultTasksTable, actionVectorTable: defaultActionVectorTable,
			maxConns: postgres.DefaultMaxConns}, "BEGIN")
	})
}

// readyWhileSaturated opens the store and the check as run does, takes
// every connection of the store's pool with begin, and polls /readyz.
func readyWhileSaturated(t *testing.T, config storeConfig, begin string) {
	store, _, err := openStore(t.Context(), config)
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	ready, err := openReadiness(config)
	require.NoError(t, err)
	t.Cleanup(func() { ready.Close() })
	base := serveAdmin(t, ready)

	db := store.DB()
	held := db.Stats().MaxOpenConnections
	require.Positive(t, held, "the calls' pool is bounded")
	for range held {
		conn, err := db.Conn(t.Context())
		require.NoError(t, err)
		_, err = conn.ExecContext(t.Context(), begin)
		require.NoError(t, err)
		t.Cleanup(func() {
			_, err := conn.ExecContext(context.Background(), "ROLLBACK")
			assert.NoError(t, err)
			conn.Close()
		})
	}
	// What /readyz used to do: a ping through the calls' pool waits for a
	// connection past its deadline.
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, db.PingContext(ctx), context.DeadlineExceeded, "the calls' pool is saturated")

	for range 5 {
		status, body, took := readyz(t, base)
		assert.Equal(t, http.StatusOK, status)
		assert.Equal(t, "ready\n", body)
		assert.Less(t, took, readyTimeout/2)
	}
	stats := ready.db.Stats()
	assert.Equal(t, 1, stats.MaxOpenConnections, "the check takes one connection")
	assert.Equal(t, 1, stats.Idle, "and keeps it open between probes")
}

// GET /readyz answers 503 within 2 s when the database cannot answer:
// refused, or silent (it accepts TCP and never answers), including for a
// probe that arrives while the one before is still waiting.
func TestReadyzAnswers503WithoutADatabase(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { silent.Close() })
	go func() {
		var held []net.Conn // accepted, never answered
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refusedAddr := refused.Addr().String()
	require.NoError(t, refused.Close())

	for name, addr := range map[string]string{"refused": refusedAddr, "silent": silent.Addr().String()} {
		t.Run(name, func(t *testing.T) {
			// The driver would wait 30 s to connect: the bound is the check's.
			ready, err := openReadiness(storeConfig{databaseURL: "postgres://tasks@" + addr + "/tasks?connect_timeout=30"})
			require.NoError(t, err)
			t.Cleanup(func() { ready.Close() })
			base := serveAdmin(t, ready)

			var answers [2]readyzAnswer
			var wg sync.WaitGroup
			for i := range answers {
				wg.Go(func() {
					time.Sleep(time.Duration(i) * readyTimeout / 2) // when silent, the second while the first waits
					answers[i] = fetchReadyz(t.Context(), base)
				})
			}
			wg.Wait()
			for i, a := range answers {
				require.NoError(t, a.err, "probe %d did not answer within 10 times its timeout", i)
				assert.Equal(t, http.StatusServiceUnavailable, a.status, "probe %d", i)
				assert.Equal(t, "database unreachable\n", a.body, "probe %d", i)
				assert.Less(t, a.took, 2*time.Second, "probe %d", i)
			}

			status, _ := get(t, base+healthPath)
			assert.Equal(t, http.StatusOK, status, "healthz does not depend on the database")
		})
	}
}

// GET /readyz answers 503 in time even when the driver ignores the
// check's deadline, for a second probe too while the first one's check
// is still stuck.
func TestReadyzAnswersInTimeWhenTheDriverHangs(t *testing.T) {
	release := make(chan struct{})
	var started atomic.Int32
	base := serveAdmin(t, &readiness{ping: func(context.Context) error {
		started.Add(1)
		<-release
		return nil
	}})
	t.Cleanup(func() { close(release) }) // before the server's Close, which waits for its handlers
	for i := range 2 {
		status, body, took := readyz(t, base)
		assert.Equal(t, http.StatusServiceUnavailable, status, "probe %d", i)
		assert.Equal(t, "database unreachable\n", body, "probe %d", i)
		assert.Less(t, took, 2*time.Second, "probe %d", i)
	}
	assert.Equal(t, int32(2), started.Load(), "both checks are still stuck")
}

// run closes the check's pool on shutdown, as it does the calls' pool: no
// connection of the server's stays open on PostgreSQL once it stopped.
func TestReadyzPoolClosesOnShutdown(t *testing.T) {
	url, schema, db := postgresSchema(t)
	url += "&application_name=" + schema
	_, out, stop := startInProcess(t, map[string]string{tokenEnv: testToken, databaseURLEnv: url})
	admin := adminOf(t, out)
	status, _ := get(t, "http://"+admin+readyPath)
	require.Equal(t, http.StatusOK, status)

	// connections counts the server's connections, or returns -1 if it
	// cannot: it runs in Eventually's goroutines too.
	connections := func() int {
		n := -1
		if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", schema).Scan(&n); err != nil {
			t.Errorf("counting connections: %v", err)
			return -1
		}
		return n
	}
	require.Positive(t, connections(), "the server's connections carry the schema's name")
	require.NoError(t, stop())
	assert.Eventually(t, func() bool { return connections() == 0 }, 5*time.Second, 20*time.Millisecond,
		"a connection of the server's is still open after shutdown")
}
