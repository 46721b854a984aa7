// Command tasks runs the library's jobs without writing Go:
//
//	tasks migrate  apply the embedded migrations (-dry-run: list the pending ones)
//	tasks serve    serve the task-create and task-sweep endpoints over HTTP
//	tasks load     load action vectors from CSV or JSON lines into the store
//	tasks create   run a task-create request body from a file or standard input
//	tasks sweep    dismiss the open tasks of a dead run (-org, -run)
//	tasks version  print the command's version and the store's schema version
//
// Build it from the repository's root with go build ./cmd/tasks; run
// "tasks <command> -h" for a command's flags.
//
// # The store
//
// Every command runs on the SQLite file -db (default tasks.db), or on
// PostgreSQL when a database URL is given, with -database-url or in
// DATABASE_URL; -citus, -tasks-table and -action-vector-table configure
// the PostgreSQL store. load, create, sweep and serve migrate the database
// when they first reach it; migrate and version never migrate unless told
// to, and migrate -dry-run and version write nothing.
//
// # Flags and the environment
//
// Every flag falls back to an environment variable named TASKS_ and the
// flag's name in upper snake case: -db is TASKS_DB, -max-calls
// TASKS_MAX_CALLS, -dry-run TASKS_DRY_RUN. -database-url falls back to
// TASKS_DATABASE_URL, then to DATABASE_URL. A flag given wins over the
// environment, which wins over the default; a value the flag would refuse
// is a usage error naming the variable. serve reads its bearer token from
// TASKS_INTERNAL_TOKEN only, never from a flag.
//
// # Exit status
//
//	0  success
//	2  invalid input or usage: a bad flag or environment variable, an
//	   unknown command, a request the endpoint answers 400, a bad record
//	3  the store is busy or unreachable, or the command was interrupted:
//	   nothing was written, retry later (what the endpoint answers 429,
//	   503 or 504: STORE_BUSY, REQUEST_CANCELLED, TIMEOUT)
//	4  the outcome is unknown: the connection was lost while committing
//	   (OUTCOME_UNKNOWN); repeating the same request is safe
//	1  anything else: a store failure (DATABASE_ERROR), a refused
//	   retirement budget (RETIRE_BUDGET_EXCEEDED), a schema newer than
//	   this build
//
// # Commands
//
// migrate applies the embedded migrations, in one transaction that
// concurrent migrators queue on, and prints each one the database lacked
// and the schema version; it is idempotent. With -dry-run it prints the
// schema version and the pending migrations, and changes nothing.
//
// load reads action vectors, one per line, from a CSV file whose header
// names the columns of the action-vector table (organization_id,
// variant_id, shop_id, snapshot_date as YYYY-MM-DD, domain,
// recommended_qty, recommended_discount_pct, recommendation_confidence,
// decision_vector_snapshot as JSON text; an empty field of the last three
// is NULL, and they may be left out), or from JSON lines, one object per
// line with the same names as keys (decision_vector_snapshot a JSON value).
// The format is the file's extension (.csv, .jsonl, .ndjson) or -format.
// It writes -batch rows per transaction, upserting on the primary key, and
// stops at the first bad record with an error naming its line and column:
// nothing of that record's batch is written, and the batches before it
// stay. An interrupt (SIGINT) stops it between batches the same way. On a
// terminal, it shows its progress on standard error.
//
// create reads a task-create request body, the JSON the endpoint takes,
// from the file it is given, or from standard input with "-" or no
// argument, and runs it as the endpoint would: dryRun, returnOutcomes,
// retireStale, maxRetireFraction and snapshotDate behave as the body says.
// It prints the endpoint's response body, the JSON envelope, on standard
// output, followed by a newline, and the error itself on standard error.
//
// sweep -org ID -run ID dismisses the OPEN tasks of the organization that
// only that run vouches for, as the sweep endpoint does, for a cron job
// that finds dead runs; -dry-run counts them. It prints the sweep
// endpoint's envelope as create does.
//
// serve serves the task-create endpoint,
// POST /api/data-platform/workflow-actions/task-create, and the sweep
// endpoint, POST /api/data-platform/workflow-actions/task-sweep:
//
//	TASKS_INTERNAL_TOKEN=change-me go run ./cmd/tasks serve -demo
//
// It migrates the database on start. Callers authenticate with
// "Authorization: Bearer $TASKS_INTERNAL_TOKEN"; the server refuses to
// start without a token. With -demo it seeds the recommendations that make
// the endpoint's reference request create two tasks, and the tasks of a
// dead run, workflow-run-uuid-zombie, for the sweep endpoint to dismiss.
// It serves at most -max-calls calls at once and answers the others 429
// with Retry-After, opens at most -max-conns connections to PostgreSQL,
// and answers any other path with a JSON 404. On a listener of its own,
// -admin-addr (default 127.0.0.1:9090), it serves GET /healthz, GET
// /readyz (the database answers within a second, on a connection of the
// check's own that never waits behind the calls' pool) and GET /metrics
// (Prometheus text), without the token. SIGINT or SIGTERM stops it after
// in-flight requests finish.
//
// version prints the module's version, "(devel)" when built from a
// checkout, and the schema version of the store: the latest migration
// applied, 0 for a database never migrated.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/actionvector/tasks/taskcreate/taskhttp"
)

// Exit statuses.
const (
	exitOK             = 0
	exitFailure        = 1 // anything else
	exitInvalid        = 2 // invalid input or usage
	exitRetry          = 3 // the store is busy or unreachable: retry later
	exitOutcomeUnknown = 4 // the request may have been applied: repeat it
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// process is what a command gets of the process: its standard streams and
// its environment.
type process struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, p process, args []string) error
}

// commands lists the subcommands, in the order the usage shows them.
var commands = []command{
	{"migrate", "apply the embedded migrations (-dry-run: list the pending ones)", migrate},
	{"serve", "serve the task-create and task-sweep endpoints over HTTP", serve},
	{"load", "load action vectors from CSV or JSON lines into the store", load},
	{"create", "run a task-create request body from a file or standard input", create},
	{"sweep", "dismiss the open tasks of a dead run", sweep},
	{"version", "print the command's version and the store's schema version", version},
}

// run runs the command args name (the program's name left out) and
// returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	p := process{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 {
		printUsage(stderr)
		return exitInvalid
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printUsage(stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, p, args[1:])
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "tasks %s: %v\n", c.name, err)
		}
		return exitCode(err)
	}
	fmt.Fprintf(stderr, "tasks: unknown command %q\n\n", args[0])
	printUsage(stderr)
	return exitInvalid
}

// exitCode is the exit status of a command that returned err. The store's
// errors are classified as the endpoints classify them, by
// taskhttp.ErrorStatus, so that a status means here what it means there.
func exitCode(err error) int {
	var invalid invalidInput
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &invalid):
		return exitInvalid
	}
	status, code := taskhttp.ErrorStatus(err)
	switch {
	case code == taskhttp.CodeOutcomeUnknown:
		return exitOutcomeUnknown
	case status == http.StatusBadRequest:
		return exitInvalid
	case status == http.StatusTooManyRequests, status == http.StatusServiceUnavailable, status == http.StatusGatewayTimeout:
		return exitRetry
	}
	return exitFailure
}

// invalidInput marks an error of the command line, the environment or the
// input: exit status 2.
type invalidInput struct{ err error }

func (e invalidInput) Error() string { return e.err.Error() }
func (e invalidInput) Unwrap() error { return e.err }

// invalidf returns an invalidInput error.
func invalidf(format string, args ...any) error {
	return invalidInput{fmt.Errorf(format, args...)}
}

// environmentHelp and exitHelp end every usage text.
const (
	environmentHelp = `Every flag falls back to the environment variable TASKS_ and its name in
upper snake case (-max-calls: TASKS_MAX_CALLS), shown beside it; -database-url
also to DATABASE_URL. A flag given wins over the environment, which wins over
the default.`
	exitHelp = `Exit status: 0 success; 2 invalid input or usage (bad flags or environment,
a request the endpoint answers 400, a bad record); 3 the store is busy or
unreachable, or the command was interrupted: nothing was written, retry later;
4 the outcome is unknown (the connection was lost while committing): repeating
the same request is safe; 1 anything else.`
)

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: tasks <command> [flags] [arguments]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun \"tasks <command> -h\" for a command's flags. The store is the SQLite\nfile -db, or PostgreSQL when a database URL is set (-database-url, DATABASE_URL).\n\n%s\n\n%s\n",
		environmentHelp, exitHelp)
}
