// Package postgres is the PostgreSQL adapter of package taskcreate, on
// database/sql with the pgx/v5 stdlib driver.
//
// Open connects and migrates; New wraps a pool the caller owns; WithTx binds
// a Store to the caller's transaction, so tasks commit or roll back with the
// caller's own writes. Besides the taskcreate.TaskStore port, a Store offers
// Migrate, PutActionVectors, ListTasks, SetTaskStatus and Close.
//
// Table names are configurable and may be schema-qualified
// (WithTasksTable, WithActionVectorTable); they are validated as plain
// identifiers and quoted. The action-vector table is usually a read-only
// mirror the data platform keeps: the store only reads it, and Migrate
// creates it only when it does not exist.
//
// A CreateTasks call is one statement, one round trip: the perimeter goes
// in as arrays, the latest snapshot of each domain is resolved, the action
// vectors are joined by primary key, the eligible candidates are upserted
// in key order with INSERT ... ON CONFLICT ... DO UPDATE, and the counts come
// back, created told from updated by comparing the id each task kept with
// the id proposed for it. A batch above the chunk size (WithChunkSize) takes
// one such statement per chunk inside a transaction. The SQL reads no system
// column, takes no session-level lock and uses no MERGE, so it also runs on
// PostgreSQL-compatible distributed engines.
//
// Serialization failures (40001), deadlocks (40P01) and connections lost
// before commit are marked transient, for the service to retry; every error
// wraps the driver's, so errors.As reaches *pgconn.PgError.
package postgres
