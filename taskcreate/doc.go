// Package taskcreate turns the latest action vectors of a perimeter into
// ACTION_VECTOR tasks. It is the pure domain: it validates and normalizes a
// Request, proposes ids and timestamps, retries transient store errors, and
// hands the whole batch to a TaskStore in one call. It imports no SQL driver
// and no HTTP; adapters live in store/sqlite and store/postgres, and
// storetest checks that an adapter follows the rules below.
//
// # Request
//
// OrganizationID, WorkflowRunID and every pair's VariantID and ShopID are
// identifiers: required (not empty after trimming spaces, though the value
// itself is never trimmed), at most MaxIDBytes bytes, valid UTF-8, no control
// characters. Domains is required and holds at least one of Restock,
// Rebalance, Markdown; duplicates are collapsed. MinConfidence is a finite
// number in [0, 1]; 0 disables filtering. Perimeter may be empty (a nil
// Perimeter is empty); duplicate pairs are collapsed; it holds at most
// DefaultMaxPerimeter pairs unless WithMaxPerimeter says otherwise.
//
// Every violation is reported at once in a *ValidationError, one FieldError
// per problem, named by JSON path ("perimeter[3].shopId"); a request with
// more than a thousand problems lists the first ones only. An invalid request
// never reaches the store.
//
// # Rules
//
// A candidate is one (pair, domain) of the normalized request. For each
// candidate, in one transaction for the whole call:
//
//  1. Snapshot: the store reads the action vector of the candidate at the
//     latest snapshot date of the organization and domain (the greatest
//     snapshot date present for that organization and domain, whatever the
//     position). Older snapshots are never used: a position missing from the
//     latest snapshot has no recommendation.
//  2. Unmatched: there is no such action vector. No task.
//  3. Suppressed: MinConfidence is above 0 and the action vector's confidence
//     is a number below it. No task. A NULL confidence is never suppressed;
//     a confidence equal to MinConfidence is kept.
//  4. Skipped: the action vector recommends nothing: for Restock and
//     Rebalance a NULL or non-positive RecommendedQty, for Markdown a NULL or
//     non-positive RecommendedDiscountPct. No task.
//  5. Created: otherwise, when the candidate's key (organization, domain,
//     shop, variant) has no open task (OPEN or IN_PROGRESS), a new one is
//     inserted with status OPEN, the service's priority, the proposed id and
//     created_at = updated_at = now.
//  6. Updated: otherwise the key's open task has its recommendation
//     (snapshot date, quantity, discount, confidence, evidence) refreshed,
//     its workflow run set to this run (ownership moves to the newest run)
//     and updated_at set to now; its id, status, priority and created_at are
//     kept. It counts as updated even when nothing else changed.
//
// DONE and DISMISSED tasks are history: never modified; a new open task may
// be created beside them. A key never has more than one open task.
//
// Created+Updated+Suppressed+Skipped+Unmatched is the number of candidates.
//
// A call commits everything or nothing: a store error or a cancelled context
// leaves no task written or changed. The one error after which tasks may
// have been written matches ErrOutcomeUnknown: the connection was lost while
// the transaction committed. A call whose work committed reports success,
// even if its context ended meanwhile. Repeating a call creates nothing and
// updates what the first call created or updated. Concurrent calls with
// overlapping perimeters never leave two open tasks for one key and never
// deadlock, because every store writes candidates in the same key order
// (domain, shop, variant). Rows of other organizations are neither read nor
// written. A task keeps a copy of its action vector's JSON snapshot as
// Evidence, so it stays explainable after old snapshots are purged. Stores
// tell created from updated by comparing the id the service proposed with
// the id the upsert kept.
//
// # Lifecycle
//
// Three options of a Request carry a task's machine-driven life beyond
// creation, each in the same transaction as the rest of the call:
//
//   - DryRun: the call classifies and counts as it would, writes nothing and
//     holds no lock afterwards; its Result has SuccessCodeTasksPreviewed. A
//     dry run followed by the same call, with no writes in between, reports
//     the same counts.
//   - RetireStale: the OPEN task of a candidate that is now unmatched,
//     suppressed or skipped is no longer recommended: it becomes DISMISSED,
//     owned by this run, updated_at now, everything else kept. IN_PROGRESS
//     tasks (someone works on them) and keys outside the candidates are
//     never touched. Result.Retired counts them; the five counts still sum
//     to the candidates.
//   - ReturnOutcomes: Result.Outcomes lists every candidate in key order
//     with its outcome and the task created, updated or retired (none for
//     a task a dry run would create). A request may ask for it with at most
//     WithMaxOutcomes candidates; a larger one is invalid on returnOutcomes,
//     before anything is read.
//
// Service.SweepRun is for the cron job that declares a run dead: every OPEN
// task of the organization still owned by the run (no later run refreshed
// it) becomes DISMISSED, updated_at now. IN_PROGRESS, DONE and DISMISSED
// tasks and other organizations' tasks are untouched, and a second sweep
// dismisses nothing. It takes the same locks in the same key order as
// CreateTasks, so the two never deadlock.
//
// Timestamps are UTC, truncated to microseconds, so every store returns them
// exactly as written. Snapshot dates are calendar dates, returned as
// midnight UTC.
//
// # Errors
//
// Validation failures match ErrInvalidRequest. Store errors marked with
// MarkTransient (ErrTransient) are retried with backoff a bounded number of
// times (WithRetry); other store errors are returned at once, wrapped so that
// errors.Is and errors.As reach the driver's own error. When ctx ends, the
// error matches ctx.Err().
//
// # Telemetry
//
// A Service records through the OpenTelemetry API, on the global providers
// unless WithTracerProvider and WithMeterProvider say otherwise: one
// INTERNAL span per CreateTasks and SweepRun call, with the request's ids,
// its candidates, its counts, its attempts and, on failure, its ErrorType;
// a histogram of call durations (actionvector.tasks.call.duration); counters
// of candidates by outcome (actionvector.tasks.candidates), of tasks
// dismissed (actionvector.tasks.dismissed) and of retries
// (actionvector.tasks.retries). The stores add a CLIENT span per statement,
// a child of the call's. The Attr constants name the attributes; none holds
// a variant or a shop id. The README's "Observe it" lists every name.
package taskcreate
