package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"go/build"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/actionvector/tasks/taskcreate/taskhttp"
)

const testToken = "e2e-token-6f1c"

const taskhttpPath = "/api/data-platform/workflow-actions/task-create"

// seedBody and seedResponse are the endpoint's reference request and its
// answer inside the success envelope.
const (
	seedBody     = `{"domains":["restock"],"minConfidence":0.6,"organizationId":"550e8400-e29b-41d4-a716-446655440001","perimeter":[{"shopId":"shop-uuid-1","variantId":"variant-uuid-1"},{"shopId":"shop-uuid-2","variantId":"variant-uuid-2"}],"workflowRunId":"workflow-run-uuid-abc123"}`
	seedResponse = `{"success":true,"data":{"created":2,"updated":0,"suppressed":0,"skipped":0,"unmatched":0,"successCode":"WORKFLOW_TASKS_CREATED","workflowRunId":"workflow-run-uuid-abc123"}}`
	// repeatResponse answers the same request again: the tasks exist and are refreshed.
	repeatResponse = `{"success":true,"data":{"created":0,"updated":2,"suppressed":0,"skipped":0,"unmatched":0,"successCode":"WORKFLOW_TASKS_CREATED","workflowRunId":"workflow-run-uuid-abc123"}}`
)

var (
	listeningAddr = regexp.MustCompile(`msg=listening addr=(\S+)`)
	adminAddr     = regexp.MustCompile(`msg="admin listening" addr=(\S+)`)
)

// post sends the reference request to addr with token, the way its curl does.
func post(t *testing.T, addr, token, body string) (*http.Response, string) {
	t.Helper()
	return postTo(t, addr, taskhttpPath, token, body)
}

// postTo sends body to path at addr with token.
func postTo(t *testing.T, addr, path, token, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(data)
}

// env returns getenv over vars only, so the host's environment cannot leak in.
func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestRunRefusesToStart(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{name: "no token", args: []string{"-db", ":memory:"}, wantErr: "TASKS_INTERNAL_TOKEN is not set"},
		{name: "blank token", args: []string{"-db", ":memory:"}, env: map[string]string{tokenEnv: " "}, wantErr: "Options.Token is empty"},
		{name: "PostgreSQL unreachable", args: []string{"-db", ":memory:"},
			env: map[string]string{tokenEnv: testToken, databaseURLEnv: "postgres://tasks@127.0.0.1:1/tasks?connect_timeout=2"}, wantErr: "postgres: connect"},
		{name: "unknown flag", args: []string{"-port", "80"}, env: map[string]string{tokenEnv: testToken}, wantErr: "flag provided but not defined"},
		{name: "stray argument", args: []string{"-db", ":memory:", "serve"}, env: map[string]string{tokenEnv: testToken}, wantErr: "unexpected arguments"},
		{name: "address in use or invalid", args: []string{"-db", ":memory:", "-addr", "127.0.0.1:-1"}, env: map[string]string{tokenEnv: testToken}, wantErr: "listen"},
		{name: "admin address invalid", args: []string{"-db", ":memory:", "-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:-1"}, env: map[string]string{tokenEnv: testToken}, wantErr: "listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := serve(t.Context(), process{stdout: &out, stderr: &out, getenv: env(tt.env)}, tt.args)
			require.ErrorContains(t, err, tt.wantErr)
			assert.NotContains(t, err.Error()+out.String(), testToken)
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// loggedAddr waits for the line of out that re matches, what the failure
// names it, and returns the address re captures in it.
func loggedAddr(t *testing.T, out *syncBuffer, re *regexp.Regexp, what string) string {
	t.Helper()
	var addr string
	require.Eventually(t, func() bool {
		m := re.FindStringSubmatch(out.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	}, 10*time.Second, 10*time.Millisecond, "no %s line:\n%s", what, out.String())
	return addr
}

// startInProcess runs the server in-process on a free port with the demo
// data and flags, and returns its address and a function that stops it and
// returns run's error.
func startInProcess(t *testing.T, vars map[string]string, flags ...string) (addr string, out *syncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	out = &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, process{stdout: out, stderr: out, getenv: env(vars)},
			append([]string{"-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0", "-db", ":memory:", "-demo"}, flags...))
	}()
	addr = loggedAddr(t, out, listeningAddr, "listening")
	return addr, out, func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			return errors.New("run did not return after its context ended")
		}
	}
}

// run serves the reference request in-process and returns nil once its
// context ends.
func TestRunServesUntilCancelled(t *testing.T) {
	addr, out, stop := startInProcess(t, map[string]string{tokenEnv: testToken})
	resp, body := post(t, addr, testToken, seedBody)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, seedResponse, body)
	require.NoError(t, stop())
	assert.Contains(t, out.String(), "msg=stopped")
	assert.NotContains(t, out.String(), testToken)
}

// postgresSchema creates a schema of its own on TASKS_TEST_POSTGRES_URL,
// dropped when the test ends, and returns the URL that makes it the
// server's search_path, and a pool on the server. Without the variable the
// test skips.
func postgresSchema(t *testing.T) (url, schema string, db *sql.DB) {
	t.Helper()
	base := os.Getenv("TASKS_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("TASKS_TEST_POSTGRES_URL is not set")
	}
	db, err := sql.Open("pgx", base)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() }) // cleanups run last first: after the drop below
	schema = fmt.Sprintf("server_test_%d", time.Now().UnixNano())
	_, err = db.ExecContext(t.Context(), "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema, schema, db
}

// With DATABASE_URL set, the server runs on PostgreSQL: here on tables in a
// schema of its own, named by the URL's search_path.
func TestRunOnPostgres(t *testing.T) {
	url, schema, db := postgresSchema(t)
	addr, out, stop := startInProcess(t, map[string]string{tokenEnv: testToken, databaseURLEnv: url})
	resp, body := post(t, addr, testToken, seedBody)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, seedResponse, body)
	require.NoError(t, stop())
	assert.Contains(t, out.String(), "database=postgres")
	assert.NotContains(t, out.String(), url, "the log names the database without its URL")

	var tasks int
	require.NoError(t, db.QueryRowContext(t.Context(), "SELECT count(*) FROM "+schema+".tasks WHERE workflow_run_id = 'workflow-run-uuid-abc123'").Scan(&tasks))
	assert.Equal(t, 2, tasks, "the tasks are in PostgreSQL")
}

// Under a burst of clients far above its bounds, the server answers every
// request with a success or a 429 to come back later: never a 500. Calls
// beyond -max-calls are refused at once, and the pool never asks
// PostgreSQL for more than -max-conns connections; with no bound on calls,
// they all wait for a connection and succeed.
func TestBurstOnPostgresIsAnsweredWith200Or429(t *testing.T) {
	t.Run("default bounds", func(t *testing.T) { burst(t) })
	t.Run("no bound on calls", func(t *testing.T) {
		count := burst(t, "-max-calls", "0")
		assert.Zero(t, count[http.StatusTooManyRequests], "with no bound on calls, none is refused")
	})
}

// burst sends 500 reference requests at once to a server on PostgreSQL
// started with flags, checks every answer is a 200 or a 429, and returns
// how many of each there were.
func burst(t *testing.T, flags ...string) map[int]int {
	const clients = 500
	url, _, _ := postgresSchema(t)
	addr, _, stop := startInProcess(t, map[string]string{tokenEnv: testToken, databaseURLEnv: url}, flags...)
	defer func() { require.NoError(t, stop()) }()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	statuses := make([]int, clients)
	bodies := make([]string, clients)
	retryAfter := make([]string, clients)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+taskhttpPath, strings.NewReader(seedBody))
			if err != nil {
				bodies[i] = err.Error()
				return
			}
			req.Header.Set("Authorization", "Bearer "+testToken)
			req.Header.Set("Content-Type", "application/json")
			<-start
			resp, err := client.Do(req)
			if err != nil {
				bodies[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			statuses[i], bodies[i], retryAfter[i] = resp.StatusCode, string(data), resp.Header.Get("Retry-After")
		})
	}
	close(start)
	wg.Wait()

	count := map[int]int{}
	for i, status := range statuses {
		count[status]++
		switch status {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			assert.Contains(t, bodies[i], `"errorCode":"TOO_MANY_REQUESTS"`)
			assert.NotEmpty(t, retryAfter[i], "a 429 says when to come back")
		default:
			t.Errorf("client %d: status %d: %s", i, status, bodies[i])
		}
	}
	assert.Positive(t, count[http.StatusOK], "some calls were served")
	t.Logf("%d clients at once: %d answered 200, %d answered 429 (%.0f%%)", clients, count[http.StatusOK],
		count[http.StatusTooManyRequests], 100*float64(count[http.StatusTooManyRequests])/clients)
	return count
}

// The demo's dead run leaves two tasks for the sweep endpoint to dismiss,
// once.
func TestSweepEndpointOfTheDemo(t *testing.T) {
	addr, _, stop := startInProcess(t, map[string]string{tokenEnv: testToken})
	defer func() { require.NoError(t, stop()) }()
	sweep := func(token, body string) (int, string) {
		resp, got := postTo(t, addr, "/api/data-platform/workflow-actions/task-sweep", token, body)
		return resp.StatusCode, got
	}
	body := `{"organizationId":"550e8400-e29b-41d4-a716-446655440001","workflowRunId":"workflow-run-uuid-zombie"}`
	status, got := sweep(testToken, strings.Replace(body, "}", `,"dryRun":true}`, 1))
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, `{"success":true,"data":{"dismissed":2,"successCode":"WORKFLOW_TASKS_PREVIEWED","workflowRunId":"workflow-run-uuid-zombie"}}`, got)
	status, got = sweep(testToken, body)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, `{"success":true,"data":{"dismissed":2,"successCode":"WORKFLOW_TASKS_SWEPT","workflowRunId":"workflow-run-uuid-zombie"}}`, got)
	_, got = sweep(testToken, body)
	assert.Contains(t, got, `"dismissed":0`, "a second sweep dismisses nothing")
	status, _ = sweep("wrong", body)
	assert.Equal(t, http.StatusUnauthorized, status)
	status, got = sweep(testToken, `{"organizationId":"o"}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, got, `"field":"workflowRunId"`)
}

// Every path the server does not serve answers in the JSON envelope.
func TestUnknownPathAnswersInTheEnvelope(t *testing.T) {
	addr, _, stop := startInProcess(t, map[string]string{tokenEnv: testToken})
	defer func() { require.NoError(t, stop()) }()
	for _, path := range []string{"/", "/api/data-platform/workflow-actions/task-delete", "/api"} {
		resp, err := http.Get("http://" + addr + path)
		require.NoError(t, err)
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), path)
		assert.JSONEq(t, `{"success":false,"error":"no endpoint at this path","errorCode":"NOT_FOUND"}`, string(data), path)
	}
}

// The OpenAPI document is served without the token.
func TestServesTheOpenAPIDocument(t *testing.T) {
	addr, _, stop := startInProcess(t, map[string]string{tokenEnv: testToken})
	defer func() { require.NoError(t, stop()) }()
	resp, err := http.Get("http://" + addr + taskhttp.OpenAPIPath)
	require.NoError(t, err)
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/yaml", resp.Header.Get("Content-Type"))
	assert.Equal(t, taskhttp.OpenAPI(), data)
}

// The real program, built and started as a user would, answers the
// reference request over TCP and stops cleanly on SIGTERM.
func TestServerEndToEnd(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "tasks")
	build := exec.CommandContext(t.Context(), goCommand(t), "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cmd := exec.CommandContext(t.Context(), bin, "serve", "-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0", "-db", filepath.Join(dir, "tasks.db"), "-demo")
	cmd.Env = append(withoutTasksVars(os.Environ()), tokenEnv+"="+testToken)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	var logs syncBuffer
	addrc := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			logs.Write(append(scanner.Bytes(), '\n'))
			if m := listeningAddr.FindStringSubmatch(scanner.Text()); m != nil {
				addrc <- m[1]
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not report its address; stdout:\n%s\nstderr:\n%s", logs.String(), stderr.String())
	}

	resp, body := post(t, addr, testToken, seedBody)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, seedResponse, body)

	_, body = post(t, addr, testToken, seedBody)
	assert.Equal(t, repeatResponse, body, "the same request again")

	resp, body = post(t, addr, "wrong-token", seedBody)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "Bearer", resp.Header.Get("WWW-Authenticate"))
	assert.JSONEq(t, `{"success":false,"error":"a valid bearer token is required","errorCode":"UNAUTHORIZED"}`, body)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	waited := make(chan error, 1)
	go func() { <-copied; waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		require.NoError(t, err, "exit after SIGTERM; stderr:\n%s", stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not stop after SIGTERM")
	}
	out := logs.String()
	assert.Contains(t, out, "msg=task-create method=POST status=200")
	assert.Contains(t, out, "created=2")
	assert.Contains(t, out, "msg=stopped")
	assert.NotContains(t, out, testToken)
	assert.Empty(t, stderr.String())
}

// goCommand finds the go command that builds the server.
func goCommand(t *testing.T) string {
	if path, err := exec.LookPath("go"); err == nil {
		return path
	}
	path := filepath.Join(build.Default.GOROOT, "bin", "go")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		t.Fatalf("no go command on PATH or in %s", build.Default.GOROOT)
	}
	return path
}
