package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
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

// register defines the program's flags on fs, each setting a field of c.
func (c *config) register(fs *flag.FlagSet) {
	fs.StringVar(&c.store, "store", "sqlite", "store to measure: sqlite, postgres, or citus (the PostgreSQL store's distributed layout on a Citus coordinator)")
	fs.BoolVar(&c.lifecycle, "lifecycle", false, "instead of the floors, measure what RetireStale and ReturnOutcomes add to an update")
	fs.BoolVar(&c.telemetry, "telemetry", false, "instead of the floors, measure what the OpenTelemetry SDK adds to an update, against the no-op providers")
	fs.BoolVar(&c.latency, "latency", false, "instead of the floors, time -calls update calls of -pairs pairs each with the library, the batch baseline and the naive one, and report p50 and p99")
	fs.IntVar(&c.calls, "calls", 200, "timed calls of each implementation with -latency")
	fs.IntVar(&c.orgs, "orgs", 0, "instead of the floors, measure this many organizations of -pairs pairs each calling one after the other, then at once")
	fs.IntVar(&c.pairs, "pairs", 100_000, "distinct (variant, shop) pairs in the perimeter; candidates are 3x that")
	fs.IntVar(&c.reps, "reps", 3, "timed repetitions of each measurement, after one warm-up; the median is reported")
	fs.IntVar(&c.naivePairs, "naive-pairs", 0, fmt.Sprintf("pairs for the naive baseline (default min(pairs, %d))", defaultNaivePairs))
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the fixture")
	fs.StringVar(&c.dsn, "dsn", os.Getenv("DATABASE_URL"), "PostgreSQL DSN (default $DATABASE_URL)")
	fs.StringVar(&c.dir, "dir", "", "directory of the SQLite database file (default: a temporary directory, removed afterwards)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write CPU profiles of one extra create call and one extra update call to `file` with .create/.update before its extension")
	fs.StringVar(&c.memProfile, "memprofile", "", "write the allocation profile of the same two extra calls, and of nothing else, to `file`")
}

// check reports every flag that is out of range or contradicts another,
// and fills in the default of -naive-pairs.
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

// progressf tells c.progress, when set, what the program is doing.
func (c config) progressf(format string, args ...any) {
	if c.progress != nil {
		fmt.Fprintf(c.progress, "bench: "+format+"\n", args...)
	}
}
