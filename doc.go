// Package tasks turns a retail data platform's daily recommendations
// ("action vectors": reorder this many units, transfer these, discount by
// this much) into tasks for people, for the perimeter of (variant, shop)
// pairs that a workflow run's trigger matched.
//
// This package holds no code; it is the map of the module.
//
// # Packages
//
//   - taskcreate: what a service calls. Request, Result, validation, the
//     Service with CreateTasks and SweepRun. No SQL, no HTTP.
//   - store: the contract between taskcreate and an adapter: the TaskStore
//     port, the Batch it receives, the rules it must follow.
//   - taskcreate/taskhttp: the net/http handler of the endpoint
//     POST /api/data-platform/workflow-actions/task-create and its wire types.
//   - store/sqlite: the adapter on SQLite (modernc.org/sqlite, pure Go),
//     for embedded use and for tests, including in-memory databases.
//   - store/postgres: the adapter on PostgreSQL (pgx/v5 through
//     database/sql), one statement per call in a transaction, caller
//     transactions.
//   - storetest: the conformance suite every adapter runs;
//     storetest/benchfixture, the data set its benchmarks run on.
//
// The module github.com/actionvector/tasks/examples, in the examples
// folder, holds runnable programs: quickstart on an embedded database,
// server (the endpoint, with health checks and Prometheus metrics) and
// bench; the go.work of the repository builds both modules together.
//
// # Use
//
//	store, err := sqlite.Open(ctx, "tasks.db") // opens, configures, migrates
//	if err != nil { ... }
//	defer store.Close()
//	svc := taskcreate.New(store)
//	res, err := svc.CreateTasks(ctx, taskcreate.Request{
//		OrganizationID: "550e8400-e29b-41d4-a716-446655440001",
//		WorkflowRunID:  "workflow-run-uuid-abc123",
//		Domains:        []taskcreate.Domain{taskcreate.Restock},
//		MinConfidence:  0.6,
//		Perimeter:      []taskcreate.Pair{{VariantID: "variant-uuid-1", ShopID: "shop-uuid-1"}},
//	})
//	// res.Created, res.Updated, res.Suppressed, res.Skipped, res.Unmatched
//
// # Rules
//
// Each (pair, domain) of the request is a candidate. Its action vector is
// the one of the latest snapshot date of the organization and domain; none
// is Unmatched. A numeric confidence below MinConfidence is Suppressed (a
// NULL confidence never is). A recommendation of nothing (no positive
// quantity, or no positive discount for markdown) is Skipped. Otherwise the
// key (organization, domain, shop, variant) gets one open task: Created if
// it had none, Updated (refreshed, and owned by this run) if it had one.
// DONE and DISMISSED tasks are never touched. A call is atomic, idempotent,
// safe to run concurrently, and confined to its organization. The package
// documentation of store states each rule precisely.
//
// # Errors
//
// An invalid request returns a *taskcreate.ValidationError listing every
// bad field by JSON path, matching taskcreate.ErrInvalidRequest, and touches
// nothing. Transient store errors are retried; a cancelled context returns
// an error matching ctx.Err(); any error means nothing was written, except
// taskcreate.ErrOutcomeUnknown: the connection was lost while committing.
package tasks
