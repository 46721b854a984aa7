package main

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

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
	var addr string
	require.Eventually(t, func() bool {
		m := adminAddr.FindStringSubmatch(out.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	}, 10*time.Second, 10*time.Millisecond, "no admin line:\n%s", out.String())
	return addr
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

// GET /readyz answers 503 when the database cannot answer within a
// second: refused, or silent.
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
			db, err := sql.Open("pgx", "postgres://tasks@"+addr+"/tasks?connect_timeout=30")
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			server := httptest.NewServer(adminHandler(db, prometheus.NewRegistry(), slog.New(slog.DiscardHandler)))
			t.Cleanup(server.Close)

			// The client waits far longer than readyTimeout: the answer
			// must come from the handler's own bound.
			ctx, cancel := context.WithTimeout(t.Context(), 10*readyTimeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, server.URL+readyPath, nil)
			require.NoError(t, err)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err, "GET /readyz did not answer within its timeout")
			defer resp.Body.Close()
			data, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			status, body := resp.StatusCode, string(data)
			assert.Equal(t, http.StatusServiceUnavailable, status)
			assert.Equal(t, "database unreachable\n", body)

			status, _ = get(t, server.URL+healthPath)
			assert.Equal(t, http.StatusOK, status, "healthz does not depend on the database")
		})
	}
}
