// Package store is the contract between package taskcreate and a storage
// adapter, as database/sql/driver is for database/sql: what only an adapter
// author needs. A service calls taskcreate and never this package; the
// adapters of this module are store/sqlite and store/postgres, and
// storetest checks any adapter against the contract.
//
// # Rules
//
// What every TaskStore must do, and storetest checks. A candidate is one
// (pair, domain) of a Batch. For each candidate, in one transaction for the
// whole call:
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
// Timestamps are UTC, truncated to microseconds, so every store returns them
// exactly as written. Snapshot dates are calendar dates, returned as
// midnight UTC.
//
// # The port
//
// An adapter implements TaskStore, two methods:
//
//   - MaterializeTasks takes the whole validated Batch of a CreateTasks call
//     and applies the rules above to every candidate, in one transaction,
//     and returns its Outcome.
//   - SweepTasks takes a Sweep and dismisses the OPEN tasks a dead run
//     leaves behind, in one transaction.
//
// Both write nothing unless they return nil, or an error marked with
// MarkOutcomeUnknown: an adapter that cannot prove its COMMIT failed (a lost
// connection, a server that ended the session, a distributed commit that
// failed on one node) must say so rather than call it a failure. Errors a
// retry may cure (a serialization failure, a deadlock, a busy database) are
// marked with MarkTransient; taskcreate retries those.
//
// # Order and locks
//
// A Batch lists its candidates in key order: domain, then shop, then
// variant (ComparePairs). Every operation that writes tasks takes its row
// locks in one total order of keys, so that concurrent calls with
// overlapping perimeters never deadlock; the order of the candidates is
// that order unless an adapter documents another one that all its writes
// share. ListTasks returns tasks in key order, then by creation.
//
// # Reporting
//
// An Outcome counts every candidate once. An adapter tells created from
// updated by the id its upsert kept: the one the Batch proposed (created)
// or the open task's (updated). Settle, Upserted and Tally are that rule and
// that count, for an adapter that lists and for one that counts; MarkRetired
// completes a list with the tasks retired. A RetireStale batch calls
// CheckRetireBudget under the locks of the retirement, before committing.
//
// # Besides the port
//
// Every adapter of this module also offers Migrate, PutActionVectors,
// ListTasks, SetTaskStatus and Close, which storetest.Store names; their
// inputs are checked with ValidateActionVectors, ValidateTaskFilter and
// ValidateStatusChange, so that every store refuses the same input with the
// same *ValidationError.
package store
