// Command bench measures CreateTasks on one store against the floors of the
// same work on the same rows in the same database, and against a naive
// hand-written implementation.
//
//	go run ./examples/bench -store sqlite -pairs 100000
//	go run ./examples/bench -store postgres -pairs 100000 -dsn 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	go run ./examples/bench -store citus -pairs 100000 -dsn 'postgres://postgres@127.0.0.1:9700/postgres?sslmode=disable'
//	go run ./examples/bench -store postgres -orgs 4 -pairs 25000 -dsn ...
//
// -store citus runs the PostgreSQL store with WithCitus on a Citus
// coordinator; the floors' tables are distributed and co-located with the
// tasks as well.
//
// It seeds a deterministic fixture (package fixture: N pairs, all three
// domains, two snapshot dates, about 45% of rows suppressed at
// minConfidence 0.6), then measures, each with a warm-up and the median of
// -reps repetitions:
//
//   - create: CreateTasks on an empty tasks table (every eligible candidate inserted);
//   - update: the same request by a new run on the full table (every one updated);
//   - F1: the rows the call writes, bulk-loaded from the client into an
//     unindexed copy of the tasks table (COPY on PostgreSQL, a prepared
//     multi-row INSERT in one transaction on SQLite);
//   - F3: the same rows upserted server-side from a staging table into a
//     table with the indexes and constraints of tasks, once into an empty
//     table and once onto the full one, with the adapter's ON CONFLICT;
//   - F_R: the server-side read of every column a call needs of the
//     perimeter's latest action vectors, by the best plan found, with the
//     perimeter and the latest dates staged on the server (untimed) and
//     nothing written;
//   - F_RW, the floor of a call: F_R then F3 in one transaction, begun as
//     a call begins it (BEGIN IMMEDIATE on SQLite), into an empty table
//     and onto the full one;
//   - batch: what a competent engineer writes without this library, in one
//     transaction: one query reads the candidates' latest rows to the
//     client (the pairs as an array), Go classifies them, and the eligible
//     ones are bulk-loaded into a temporary table (COPY on PostgreSQL, a
//     prepared multi-row INSERT on SQLite) and upserted with one
//     statement; it must report the counts CreateTasks reports;
//   - naive: one query per candidate and one upsert per eligible candidate
//     in one transaction, on the first -naive-pairs pairs;
//   - allocated bytes per candidate and the peak heap of the CreateTasks calls.
//
// It prints a table, then one line per phase for machines:
//
//	BENCH store=<s> phase=<create|update> pairs=<N> candidates=<C> seconds=<t> per_sec=<C/t> ratio_f3=<t/F3> ratio_f1=<t/F1> speedup_naive=<naive/t per candidate> alloc_bytes_per_candidate=<b> ratio_rw=<t/F_RW> speedup_batch=<batch/t>
//
// With -orgs K it measures something else: K organizations, each with the
// fixture of -pairs pairs, making their create calls one after the other,
// then all at once, and prints
//
//	BENCH store=<s> phase=orgs orgs=<K> pairs=<N> candidates=<K*3N> seconds=<at once> per_sec=<candidates/s at once> sequential_seconds=<one after the other> speedup_concurrent=<sequential/at once> errors=<failed calls>
//
// With -lifecycle it creates the fixture's tasks, then times updates with
// and without RetireStale (every pair), and with and without ReturnOutcomes
// (the first 33,333 pairs: at most 100,000 candidates may ask for it),
// alternately, and prints
//
//	BENCH store=<s> phase=<retire_stale|return_outcomes> pairs=<N> candidates=<C> seconds=<with> plain_seconds=<without> ratio_plain=<with/without>
//
// With -latency it seeds the fixture of -pairs pairs (1,000 for the daily
// case), creates its tasks, then makes -calls update calls with the
// library, the batch baseline and the naive one in turn, checks each
// call's counts, and prints
//
//	BENCH store=<s> phase=latency pairs=<N> candidates=<C> calls=<K> p50=<s> p99=<s> batch_p50=<s> batch_p99=<s> naive_p50=<s> naive_p99=<s> speedup_naive=<naive p50/p50> speedup_batch=<batch p50/p50>
//
// With -telemetry it times updates of every pair on the no-op
// OpenTelemetry providers and on the SDK (every span sampled and batched to
// an in-memory exporter, metrics aggregated for the Prometheus exporter),
// alternately, and prints the same line with phase=telemetry.
//
// PostgreSQL runs in a scratch schema dropped at the end, also on error or
// interrupt. SQLite runs on a file database in -dir (default: a temporary
// directory, removed at the end).
package main

import (
	"context"
	"flag"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	var cfg config
	cfg.register(flag.CommandLine)
	flag.Parse()
	cfg.progress = os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		stop()
		log.Fatal(err)
	}
}

// reporter is what one mode measured, ready to be written.
type reporter interface {
	write(w io.Writer) error
}

// run seeds the store named by cfg, measures every phase of its mode and
// writes the report to w.
func run(ctx context.Context, cfg config, w io.Writer) (err error) {
	if err := cfg.check(); err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		// The scratch schema or file goes even when ctx was interrupted.
		if cerr := db.Close(context.WithoutCancel(ctx)); cerr != nil && err == nil {
			err = cerr
		}
	}()
	r, err := measureMode(ctx, cfg, db)
	if err != nil {
		return err
	}
	return r.write(w)
}

// openDatabase opens the store cfg names.
func openDatabase(ctx context.Context, cfg config) (database, error) {
	if cfg.store == "postgres" || cfg.store == "citus" {
		return openPostgres(ctx, cfg.dsn, cfg.store == "citus")
	}
	return openSQLite(ctx, cfg.dir)
}

// measureMode measures on db what the mode of cfg measures.
func measureMode(ctx context.Context, cfg config, db database) (reporter, error) {
	switch {
	case cfg.lifecycle:
		return measureComparisons(ctx, cfg, db, lifecycleComparisons)
	case cfg.telemetry:
		return measureTelemetry(ctx, cfg, db)
	case cfg.latency:
		return measureLatency(ctx, cfg, db)
	case cfg.orgs > 0:
		return measureOrgs(ctx, cfg, db)
	default:
		return measure(ctx, cfg, db)
	}
}
