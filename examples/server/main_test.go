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
)

const testToken = "e2e-token-6f1c"

// seedBody and seedResponse are the endpoint's reference request and its
// answer inside the success envelope.
const (
	seedBody     = `{"domains":["restock"],"minConfidence":0.6,"organizationId":"550e8400-e29b-41d4-a716-446655440001","perimeter":[{"shopId":"shop-uuid-1","variantId":"variant-uuid-1"},{"shopId":"shop-uuid-2","variantId":"variant-uuid-2"}],"workflowRunId":"workflow-run-uuid-abc123"}`
	seedResponse = `{"success":true,"data":{"created":2,"updated":0,"suppressed":0,"skipped":0,"unmatched":0,"successCode":"WORKFLOW_TASKS_CREATED","workflowRunId":"workflow-run-uuid-abc123"}}`
	// repeatResponse answers the same request again: the tasks exist and are refreshed.
	repeatResponse = `{"success":true,"data":{"created":0,"updated":2,"suppressed":0,"skipped":0,"unmatched":0,"successCode":"WORKFLOW_TASKS_CREATED","workflowRunId":"workflow-run-uuid-abc123"}}`
)

var listeningAddr = regexp.MustCompile(`msg=listening addr=(\S+)`)

// post sends the reference request to addr with token, the way its curl does.
func post(t *testing.T, addr, token, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+"/api/data-platform/workflow-actions/task-create", strings.NewReader(body))
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(t.Context(), tt.args, env(tt.env), &out)
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

// startInProcess runs the server in-process on a free port with the demo
// data and returns its address and a function that stops it and returns
// run's error.
func startInProcess(t *testing.T, vars map[string]string) (addr string, out *syncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	out = &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", ":memory:", "-demo"}, env(vars), out)
	}()
	require.Eventually(t, func() bool {
		m := listeningAddr.FindStringSubmatch(out.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	}, 10*time.Second, 10*time.Millisecond, "no listening line:\n%s", out.String())
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

// With DATABASE_URL set, the server runs on PostgreSQL: here on tables in a
// schema of its own, named by the URL's search_path.
func TestRunOnPostgres(t *testing.T) {
	url := os.Getenv("TASKS_TEST_POSTGRES_URL")
	if url == "" {
		t.Skip("TASKS_TEST_POSTGRES_URL is not set")
	}
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	defer db.Close()
	schema := fmt.Sprintf("server_test_%d", time.Now().UnixNano())
	_, err = db.ExecContext(t.Context(), "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}

	addr, out, stop := startInProcess(t, map[string]string{tokenEnv: testToken, databaseURLEnv: url + sep + "search_path=" + schema})
	resp, body := post(t, addr, testToken, seedBody)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, seedResponse, body)
	require.NoError(t, stop())
	assert.Contains(t, out.String(), "database=postgres")
	assert.NotContains(t, out.String(), url, "the log names the database without its URL")

	var tasks int
	require.NoError(t, db.QueryRowContext(t.Context(), "SELECT count(*) FROM "+schema+".tasks").Scan(&tasks))
	assert.Equal(t, 2, tasks, "the tasks are in PostgreSQL")
}

// The real program, built and started as a user would, answers the
// reference request over TCP and stops cleanly on SIGTERM.
func TestServerEndToEnd(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "server")
	build := exec.CommandContext(t.Context(), goCommand(t), "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cmd := exec.CommandContext(t.Context(), bin, "-addr", "127.0.0.1:0", "-db", filepath.Join(dir, "tasks.db"), "-demo")
	cmd.Env = append(withoutVar(os.Environ(), databaseURLEnv), tokenEnv+"="+testToken)
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

func withoutVar(environ []string, name string) []string {
	var out []string
	for _, kv := range environ {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
