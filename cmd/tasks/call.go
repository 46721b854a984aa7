package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/actionvector/tasks/taskcreate"
	"github.com/actionvector/tasks/taskcreate/taskhttp"
)

var createHelp = help{synopsis: "create [flags] [FILE|-]", text: `Runs a task-create request: FILE, or standard input with - or no argument,
holds the JSON body the endpoint POST ` + taskhttp.Path + `
takes, and dryRun, returnOutcomes, retireStale, maxRetireFraction and
snapshotDate behave as it says. Prints the endpoint's response body, the JSON
envelope, on standard output (then a newline), and the error itself, if
any, on standard error. A body that fails validation never opens the store.`}

// create is the create subcommand.
func create(ctx context.Context, p process, args []string) error {
	flags := newFlagSet("create")
	config := addStoreFlags(flags)
	rest, err := parseStoreFlags(flags, args, p, createHelp, config, 1)
	if err != nil {
		return err
	}
	body, err := openInput(rest, p.stdin)
	if err != nil {
		return err
	}
	defer body.Close()
	s := &deferredStore{config: *config}
	defer s.Close()
	svc := taskcreate.New(s)
	req, err := taskhttp.DecodeRequestWithLimits(body, svc.Limits())
	var res taskcreate.Result
	if err == nil {
		res, err = svc.CreateTasks(ctx, req)
	}
	return printEnvelope(p.stdout, err, func(w http.ResponseWriter) { taskhttp.WriteResult(w, req, res) })
}

var sweepHelp = help{synopsis: "sweep -org ID -run ID [-dry-run] [flags]", text: `Dismisses every OPEN task of the organization -org that the run -run still
owns (no later run refreshed it), as the endpoint POST ` + taskhttp.SweepPath + `
does: for a cron job that finds dead runs. -dry-run counts them and dismisses
none. Prints the endpoint's response body, the JSON envelope, on standard
output (then a newline), and the error itself, if any, on standard error.`}

// sweepFlags names the flag of each field of a sweep request.
var sweepFlags = map[string]string{"organizationId": "-org", "workflowRunId": "-run"}

// sweep is the sweep subcommand.
func sweep(ctx context.Context, p process, args []string) error {
	flags := newFlagSet("sweep")
	config := addStoreFlags(flags)
	org := flags.String("org", "", "`ID` of the organization (required)")
	runID := flags.String("run", "", "`ID` of the dead workflow run (required)")
	dryRun := flags.Bool("dry-run", false, "count the tasks the sweep would dismiss, and dismiss none")
	if _, err := parseStoreFlags(flags, args, p, sweepHelp, config, 0); err != nil {
		return err
	}
	s := &deferredStore{config: *config}
	defer s.Close()
	res, err := taskcreate.New(s).SweepRun(ctx, taskcreate.SweepRequest{OrganizationID: *org, WorkflowRunID: *runID, DryRun: *dryRun})
	var invalid *taskcreate.ValidationError
	if errors.As(err, &invalid) {
		err = invalidFlags{invalid: invalid, flags: sweepFlags}
	}
	return printEnvelope(p.stdout, err, func(w http.ResponseWriter) { taskhttp.WriteSweepResult(w, res) })
}

// invalidFlags is a validation error of a request built from flags: its
// text names the flags rather than the fields.
type invalidFlags struct {
	invalid *taskcreate.ValidationError
	flags   map[string]string // field: flag
}

func (e invalidFlags) Error() string {
	problems := make([]string, len(e.invalid.Fields))
	for i, f := range e.invalid.Fields {
		name := f.Field
		if flag, ok := e.flags[f.Field]; ok {
			name = flag
		}
		problems[i] = name + " " + f.Message
	}
	return "invalid flags: " + strings.Join(problems, "; ")
}

func (e invalidFlags) Unwrap() error { return e.invalid }

// openInput opens the one file args names, or returns stdin for "-" or no
// argument (which Close leaves open).
func openInput(args []string, stdin io.Reader) (io.ReadCloser, error) {
	if len(args) == 0 || args[0] == "-" {
		return io.NopCloser(stdin), nil
	}
	f, err := os.Open(args[0])
	if err != nil {
		return nil, invalidInput{err}
	}
	return f, nil
}

// printEnvelope writes to w the response body an endpoint answers: err's
// error envelope, or what success writes when err is nil; then a newline.
// It returns err.
func printEnvelope(w io.Writer, err error, success func(http.ResponseWriter)) error {
	resp := &response{header: http.Header{}}
	if err != nil {
		taskhttp.WriteError(resp, err)
	} else {
		success(resp)
	}
	resp.body.WriteByte('\n')
	if _, werr := w.Write(resp.body.Bytes()); werr != nil && err == nil {
		return werr
	}
	return err
}

// response holds what a handler writes, for printEnvelope.
type response struct {
	header http.Header
	body   bytes.Buffer
}

func (r *response) Header() http.Header         { return r.header }
func (r *response) WriteHeader(int)             {}
func (r *response) Write(b []byte) (int, error) { return r.body.Write(b) }
