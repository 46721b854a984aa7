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
//     nothing written; F_RW = F_R + F3 is the floor of a call;
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
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// config is what the flags set.
type config struct {
	store      string // "sqlite", "postgres" or "citus"
	pairs      int
	orgs       int  // 0: the phases against the floors; K: K organizations at once
	lifecycle  bool // what RetireStale and ReturnOutcomes add to an update
	telemetry  bool // what the OpenTelemetry SDK adds to an update
	latency    bool // p50 and p99 of small calls: the library, batch and naive
	calls      int  // timed calls of each implementation in the -latency mode
	reps       int
	naivePairs int // 0: min(pairs, defaultNaivePairs)
	seed       uint64
	dsn        string // PostgreSQL
	dir        string // SQLite; "" for a temporary directory
	cpuProfile string
	memProfile string
	progress   io.Writer // what the program is doing, while it does it; nil for nothing
}

// defaultNaivePairs keeps the naive baseline, which costs a round trip per
// candidate, to seconds; its time per candidate does not depend on the size.
const defaultNaivePairs = 5000

func main() {
	var cfg config
	flag.StringVar(&cfg.store, "store", "sqlite", "store to measure: sqlite, postgres, or citus (the PostgreSQL store's distributed layout on a Citus coordinator)")
	flag.BoolVar(&cfg.lifecycle, "lifecycle", false, "instead of the floors, measure what RetireStale and ReturnOutcomes add to an update")
	flag.BoolVar(&cfg.telemetry, "telemetry", false, "instead of the floors, measure what the OpenTelemetry SDK adds to an update, against the no-op providers")
	flag.BoolVar(&cfg.latency, "latency", false, "instead of the floors, time -calls update calls of -pairs pairs each with the library, the batch baseline and the naive one, and report p50 and p99")
	flag.IntVar(&cfg.calls, "calls", 200, "timed calls of each implementation with -latency")
	flag.IntVar(&cfg.orgs, "orgs", 0, "instead of the floors, measure this many organizations of -pairs pairs each calling one after the other, then at once")
	flag.IntVar(&cfg.pairs, "pairs", 100_000, "distinct (variant, shop) pairs in the perimeter; candidates are 3x that")
	flag.IntVar(&cfg.reps, "reps", 3, "timed repetitions of each measurement, after one warm-up; the median is reported")
	flag.IntVar(&cfg.naivePairs, "naive-pairs", 0, fmt.Sprintf("pairs for the naive baseline (default min(pairs, %d))", defaultNaivePairs))
	flag.Uint64Var(&cfg.seed, "seed", 1, "seed of the fixture")
	flag.StringVar(&cfg.dsn, "dsn", os.Getenv("DATABASE_URL"), "PostgreSQL DSN (default $DATABASE_URL)")
	flag.StringVar(&cfg.dir, "dir", "", "directory of the SQLite database file (default: a temporary directory, removed afterwards)")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write CPU profiles of one extra create call and one extra update call to `file` with .create/.update before its extension")
	flag.StringVar(&cfg.memProfile, "memprofile", "", "write the allocation profile of the same two extra calls, and of nothing else, to `file`")
	flag.Parse()
	cfg.progress = os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		stop()
		log.Fatal(err)
	}
}

func (c *config) check() error {
	var problems []string
	if c.store != "sqlite" && c.store != "postgres" && c.store != "citus" {
		problems = append(problems, fmt.Sprintf("-store %q: want sqlite, postgres or citus", c.store))
	}
	if c.orgs < 0 {
		problems = append(problems, fmt.Sprintf("-orgs %d: want 0 or more", c.orgs))
	}
	if modes := btoi(c.orgs > 0) + btoi(c.lifecycle) + btoi(c.telemetry) + btoi(c.latency); modes > 1 {
		problems = append(problems, "-orgs, -lifecycle, -telemetry and -latency are different modes: choose one")
	}
	if c.latency && c.calls < 1 {
		problems = append(problems, fmt.Sprintf("-calls %d: want at least 1", c.calls))
	}
	if c.pairs < 1 {
		problems = append(problems, fmt.Sprintf("-pairs %d: want at least 1", c.pairs))
	}
	if c.reps < 1 {
		problems = append(problems, fmt.Sprintf("-reps %d: want at least 1", c.reps))
	}
	if c.naivePairs < 0 {
		problems = append(problems, fmt.Sprintf("-naive-pairs %d: want at least 1", c.naivePairs))
	}
	if c.store != "sqlite" && c.dsn == "" {
		problems = append(problems, fmt.Sprintf("-store %s needs -dsn or $DATABASE_URL", c.store))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	if c.naivePairs == 0 {
		c.naivePairs = defaultNaivePairs
	}
	c.naivePairs = min(c.naivePairs, c.pairs)
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// run seeds the store named by cfg, measures every phase and writes the
// report to w.
func run(ctx context.Context, cfg config, w io.Writer) (err error) {
	if err := cfg.check(); err != nil {
		return err
	}
	var db database
	switch cfg.store {
	case "postgres", "citus":
		db, err = openPostgres(ctx, cfg.dsn, cfg.store == "citus")
	default:
		db, err = openSQLite(ctx, cfg.dir)
	}
	if err != nil {
		return err
	}
	defer func() {
		// The scratch schema or file goes even when ctx was interrupted.
		if cerr := db.Close(context.WithoutCancel(ctx)); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if cfg.lifecycle || cfg.telemetry {
		compare := comparisons(lifecycleComparisons)
		if cfg.telemetry {
			sdk, err := newSDK()
			if err != nil {
				return err
			}
			defer sdk.shutdown(context.WithoutCancel(ctx))
			compare = sdk.comparisons
		}
		r, err := measureComparisons(ctx, cfg, db, compare)
		if err != nil {
			return err
		}
		return r.write(w)
	}
	if cfg.latency {
		r, err := measureLatency(ctx, cfg, db)
		if err != nil {
			return err
		}
		return r.write(w)
	}
	if cfg.orgs > 0 {
		r, err := measureOrgs(ctx, cfg, db)
		if err != nil {
			return err
		}
		return r.write(w)
	}
	r, err := measure(ctx, cfg, db)
	if err != nil {
		return err
	}
	return r.write(w)
}
