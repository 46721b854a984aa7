// Command bench measures CreateTasks on one store against the floors of the
// same work on the same rows in the same database, and against a naive
// hand-written implementation.
//
//	go run ./examples/bench -store sqlite -pairs 100000
//	go run ./examples/bench -store postgres -pairs 100000 -dsn 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
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
//   - naive: one query per candidate and one upsert per eligible candidate
//     in one transaction, on the first -naive-pairs pairs;
//   - allocated bytes per candidate and the peak heap of the CreateTasks calls.
//
// It prints a table, then one line per phase for machines:
//
//	BENCH store=<s> phase=<create|update> pairs=<N> candidates=<C> seconds=<t> per_sec=<C/t> ratio_f3=<t/F3> ratio_f1=<t/F1> speedup_naive=<naive/t per candidate> alloc_bytes_per_candidate=<b>
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
	store      string // "sqlite" or "postgres"
	pairs      int
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
	flag.StringVar(&cfg.store, "store", "sqlite", "store to measure: sqlite or postgres")
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
	if c.store != "sqlite" && c.store != "postgres" {
		problems = append(problems, fmt.Sprintf("-store %q: want sqlite or postgres", c.store))
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
	if c.store == "postgres" && c.dsn == "" {
		problems = append(problems, "-store postgres needs -dsn or $DATABASE_URL")
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

// run seeds the store named by cfg, measures every phase and writes the
// report to w.
func run(ctx context.Context, cfg config, w io.Writer) (err error) {
	if err := cfg.check(); err != nil {
		return err
	}
	var db database
	switch cfg.store {
	case "postgres":
		db, err = openPostgres(ctx, cfg.dsn)
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
	r, err := measure(ctx, cfg, db)
	if err != nil {
		return err
	}
	return r.write(w)
}
