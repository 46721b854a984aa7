// Package postgres is the PostgreSQL adapter of package taskcreate, on
// pgx/v5: through database/sql with its stdlib driver, or with pgx's own
// API on a pgx pool or in a pgx transaction of the caller's.
//
// There are three ways in: Open connects and migrates; New wraps a
// database/sql pool the caller owns; NewFromPool builds on a service's
// *pgxpool.Pool, whose statements run with pgx's own API. WithTx (a *sql.Tx) and WithPgxTx (a pgx.Tx) bind a Store
// to the caller's transaction, so tasks commit or roll back with the
// caller's own writes. Besides the store.TaskStore port, a Store offers
// Migrate, PutActionVectors, ListTasks, SetTaskStatus and Close. An invalid
// option is an error from Open and a panic from New.
//
// Table names are configurable and may be schema-qualified
// (WithTasksTable, WithActionVectorTable); they are validated as plain
// identifiers and quoted. The action-vector table is usually a read-only
// mirror the data platform keeps: the store only reads it, and Migrate
// creates it only when it does not exist.
//
// A CreateTasks call is one statement in a transaction: the perimeter goes
// in as arrays, the latest snapshot of each domain is resolved, the action
// vectors are looked up by primary key, the eligible candidates are upserted
// with INSERT ... ON CONFLICT ... DO UPDATE, and the counts come back,
// created told from updated by comparing the id each task kept with the id
// proposed for it. Every statement that writes tasks locks them in one
// order, the lock order: (variant, shop, domain) in byte order, the order
// of the action-vector primary key and of the open-key index, so a call
// reads and writes with no sort and concurrent calls and sweeps never
// deadlock. A batch above the chunk size (WithChunkSize) takes one such
// statement per chunk, the chunks following the lock order too. With
// RetireStale the same statement first locks the open task of every
// candidate, then dismisses the
// OPEN ones the upsert does not refresh; with ReturnOutcomes it returns
// every candidate's outcome and task instead of the counts. A dry run is
// one read-only statement per chunk. The SQL reads no system column, takes
// no session-level lock and uses no MERGE.
//
// A refresh changes no indexed column, and the tasks table leaves half of
// each page free (fillfactor 50), so refreshing an open task is a HOT
// update: a new version on the same page, and no new index entry. No index
// holds the run; a sweep reads the organization's open tasks.
//
// On a Citus coordinator the store takes the distributed layout, found by
// Migrate (the citus extension) or at the first call (distributed tables),
// or required by WithCitus: both tables distributed by organization_id and
// co-located, and every statement of a call routed to the one worker that
// holds the organization, two per chunk (an upsert, then a count) since
// Citus cannot route an INSERT inside a CTE, and one more for each of
// RetireStale's lock and retirement and ReturnOutcomes' list.
//
// The transaction is explicit, though one statement would be atomic on its
// own, so that a call cancelled while its statement runs never commits:
// COMMIT is sent only once the work is done and the context still live, and
// then runs to its end. A COMMIT error that does not prove a rollback (only
// SQLSTATE classes 40 and 23 do) matches store.ErrOutcomeUnknown: a
// connection lost during COMMIT, a server shutting down, a Citus
// coordinator that lost a committing worker.
//
// Serialization failures (40001), deadlocks (40P01), a server out of
// connections (53300) and connections lost before COMMIT are marked
// transient, for the service to retry; every error wraps the driver's, so
// errors.As reaches *pgconn.PgError. Open's pool holds at most
// DefaultMaxConns connections (WithMaxConns).
package postgres
