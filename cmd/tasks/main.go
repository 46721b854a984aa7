// Command tasks runs the library's jobs without writing Go.
//
//	tasks serve    serve the task-create and task-sweep endpoints over HTTP
//
// serve serves the task-create endpoint,
// POST /api/data-platform/workflow-actions/task-create, and the sweep
// endpoint, POST /api/data-platform/workflow-actions/task-sweep:
//
//	TASKS_INTERNAL_TOKEN=change-me go run ./cmd/tasks serve -demo
//
// It stores tasks in the SQLite file tasks.db (-db), or in PostgreSQL when
// DATABASE_URL is set, and migrates the database on start. Callers
// authenticate with "Authorization: Bearer $TASKS_INTERNAL_TOKEN"; the
// server refuses to start without a token. With -demo it seeds the
// recommendations that make the endpoint's reference request create two
// tasks, and the tasks of a dead run, workflow-run-uuid-zombie, for the
// sweep endpoint to dismiss. It serves at most -max-calls calls at once and
// answers the others 429 with Retry-After, opens at most -max-conns
// connections to PostgreSQL, and answers any other path with a JSON 404. On
// a listener of its own, -admin-addr (default 127.0.0.1:9090), it serves GET
// /healthz, GET /readyz (the database answers within a second, on a
// connection of the check's own that never waits behind the calls' pool)
// and GET /metrics (Prometheus text), without the token. SIGINT or SIGTERM
// stops it after in-flight requests finish.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 || os.Args[1] != "serve" {
		fmt.Fprintln(os.Stderr, "usage: tasks serve [flags]")
		os.Exit(2)
	}
	if err := serve(ctx, os.Args[2:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tasks serve:", err)
		os.Exit(1)
	}
}
