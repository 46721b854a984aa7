// Package taskcreate turns the latest action vectors of a perimeter into
// ACTION_VECTOR tasks. A service builds a Service on a TaskStore (store/sqlite
// embedded, store/postgres on a server) and calls CreateTasks with the
// perimeter a workflow run's trigger matched:
//
//	svc := taskcreate.New(st)
//	res, err := svc.CreateTasks(ctx, taskcreate.Request{
//		OrganizationID: org, WorkflowRunID: run,
//		Domains:   taskcreate.Domains(),
//		Perimeter: []taskcreate.Pair{{VariantID: "v1", ShopID: "s1"}},
//	})
//
// Each candidate, one (pair, domain) of the request, is read at the latest
// snapshot of its domain and counted once: Unmatched (no action vector),
// Suppressed (confidence below MinConfidence), Skipped (it recommends
// nothing), Created (a new OPEN task) or Updated (the key's open task is
// refreshed and now owned by this run). DONE and DISMISSED tasks are never
// touched, and a key never has two open tasks. Package store states the
// rules exactly, and defines the types named here (taskcreate.Task and
// store.Task are one type); taskhttp serves them over HTTP.
//
// A call commits everything or nothing, in one transaction, and repeating it
// creates nothing new. Request.DryRun says what a call would do and writes
// nothing; Request.RetireStale dismisses the OPEN tasks no longer
// recommended, within a budget (WithRetireBudget); Request.ReturnOutcomes
// lists every candidate. SweepRun dismisses what a dead run leaves behind.
//
// # Errors
//
// An invalid request returns a *ValidationError naming every bad field by
// JSON path ("perimeter[3].shopId"), matches ErrInvalidRequest and never
// reaches the store. Transient store errors are retried (WithRetry); others
// are returned wrapped, so errors.Is and errors.As reach the driver's own.
// When ctx ends, the error matches ctx.Err(). The one error after which
// tasks may have been written is ErrOutcomeUnknown: the connection was lost
// while committing, and repeating the same call is safe.
//
// # Telemetry
//
// A Service records through the OpenTelemetry API (WithTracerProvider,
// WithMeterProvider; the global providers otherwise): a span per call, a
// histogram of call durations and counters of candidates, dismissed tasks
// and retries. The stores add a span per statement. The Attr constants name
// the attributes; none holds a variant or a shop id.
package taskcreate
