// Package sqlite is the SQLite adapter of package taskcreate, on
// modernc.org/sqlite (pure Go, no cgo).
//
// Open gives a ready store on a file or an in-memory database; New wraps a
// pool the caller owns. Both offer, besides the taskcreate.TaskStore port,
// the methods every adapter has: Migrate, PutActionVectors, ListTasks,
// SetTaskStatus and Close.
//
// The schema mirrors the PostgreSQL one: dates are TEXT "YYYY-MM-DD",
// timestamps one fixed UTC TEXT format with microseconds, JSON is TEXT and
// task ids are 16-byte BLOBs. Migrations are embedded and versioned in the
// table actionvector_tasks_migrations.
//
// A CreateTasks call is one write transaction (BEGIN IMMEDIATE): the pairs
// go in through json_each, a chunk of pairs per statement, each looked up
// with one primary-key range scan for all its domains; the eligible
// candidates land in a temporary table, then one statement upserts them in
// key order and one counts the tasks created.
//
// The classifying statement counts suppressed, skipped and eligible
// candidates through actionvector_tasks_classified, a function this package
// registers with the modernc.org/sqlite driver when it is imported: it
// exists on every connection the driver opens afterwards, so a pool handed
// to New must be opened by a program that imports this package, and the
// name is taken.
package sqlite
