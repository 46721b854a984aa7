// Package sqlite is the SQLite adapter of package taskcreate, on
// modernc.org/sqlite (pure Go, no cgo).
//
// Open gives a ready store on a file or an in-memory database; New wraps a
// pool the caller owns; WithTx binds a Store to the caller's transaction, so
// tasks commit or roll back with the caller's own writes. Besides the
// store.TaskStore port, a Store offers the methods every adapter has:
// Migrate, PutActionVectors, ListTasks, SetTaskStatus and Close. An invalid
// option is an error from Open and a panic from New.
//
// The schema mirrors the PostgreSQL one, with the same table, index and
// migration names: dates are TEXT "YYYY-MM-DD", timestamps one fixed UTC
// TEXT format with microseconds, JSON is TEXT and task ids are 16-byte
// BLOBs. Migrations are embedded and versioned in the table
// actionvector_tasks_migrations; every statement is an embedded file of
// statements/.
//
// A CreateTasks call is one write transaction (BEGIN IMMEDIATE): the pairs
// go in through json_each, a chunk of pairs per statement, each looked up
// with one primary-key range scan for all its domains; the candidates that
// have an action vector land in a temporary table with their outcome
// (suppressed, skipped or eligible), then one statement upserts the
// eligible ones in key order and one counts the outcomes and the tasks
// created. With RetireStale one statement per chunk of pairs then
// dismisses the OPEN tasks of the candidates the temporary table does not
// hold as eligible; with ReturnOutcomes one more lists every candidate. A
// dry run classifies and counts, and writes nothing. All the state of a
// call is in its own transaction.
package sqlite
