package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRunSQLite runs the whole program on a tiny fixture and checks the
// machine-readable lines: present, last, and well-formed.
func TestRunSQLite(t *testing.T) {
	dir := t.TempDir()
	cpu := filepath.Join(dir, "cpu.pprof")
	var out bytes.Buffer
	cfg := config{store: "sqlite", pairs: 100, reps: 1, seed: 1, dir: dir, cpuProfile: cpu, memProfile: filepath.Join(dir, "mem.pprof")}
	if err := run(t.Context(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "WARNING") {
		t.Errorf("the report warns:\n%s", out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 2 {
		t.Fatalf("output too short:\n%s", out.String())
	}
	for i, phase := range []string{"create", "update"} {
		line := lines[len(lines)-2+i]
		fields := parseBench(t, line)
		want := map[string]string{"store": "sqlite", "phase": phase, "pairs": "100", "candidates": "300"}
		for k, v := range want {
			if fields[k] != v {
				t.Errorf("%s = %q, want %q in %q", k, fields[k], v, line)
			}
		}
		for _, k := range benchKeys[4:] {
			v, err := strconv.ParseFloat(fields[k], 64)
			if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
				t.Errorf("%s = %q, want a finite positive number in %q", k, fields[k], line)
			}
		}
	}
	for _, p := range []string{"cpu.create.pprof", "cpu.update.pprof", "mem.pprof"} {
		if st, err := os.Stat(filepath.Join(dir, p)); err != nil || st.Size() == 0 {
			t.Errorf("profile %s not written: %v", p, err)
		}
	}
}

// benchKeys are the fields of a BENCH line, in their order.
var benchKeys = []string{"store", "phase", "pairs", "candidates", "seconds", "per_sec", "ratio_f3", "ratio_f1",
	"speedup_naive", "alloc_bytes_per_candidate", "ratio_rw", "speedup_batch"}

// parseBench splits a BENCH line into its fields, failing the test unless
// it has exactly the documented fields in the documented order.
func parseBench(t *testing.T, line string) map[string]string {
	t.Helper()
	words := strings.Fields(line)
	if len(words) != 1+len(benchKeys) || words[0] != "BENCH" {
		t.Fatalf("not a BENCH line: %q", line)
	}
	fields := map[string]string{}
	for i, w := range words[1:] {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k != benchKeys[i] {
			t.Fatalf("field %d of %q is %q, want %s=...", i+1, line, w, benchKeys[i])
		}
		fields[k] = v
	}
	return fields
}

// TestRunPostgres runs the whole program on a tiny fixture on PostgreSQL,
// and on Citus: the floors, the batch baseline and the naive one must
// agree with CreateTasks, or run fails. Without the server's variable the
// test skips; CI sets both.
func TestRunPostgres(t *testing.T) {
	for store, variable := range map[string]string{"postgres": "TASKS_TEST_POSTGRES_URL", "citus": "TASKS_TEST_CITUS_URL"} {
		t.Run(store, func(t *testing.T) {
			dsn := os.Getenv(variable)
			if dsn == "" {
				t.Skipf("%s is not set", variable)
			}
			var out bytes.Buffer
			if err := run(t.Context(), config{store: store, dsn: dsn, pairs: 100, reps: 1, seed: 3}, &out); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out.String(), "WARNING") {
				t.Errorf("the report warns:\n%s", out.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			for i, phase := range []string{"create", "update"} {
				fields := parseBench(t, lines[len(lines)-2+i])
				if fields["store"] != store || fields["phase"] != phase {
					t.Errorf("want a BENCH line of %s %s, got %q", store, phase, lines[len(lines)-2+i])
				}
				for _, k := range benchKeys[4:] {
					if v, err := strconv.ParseFloat(fields[k], 64); err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
						t.Errorf("%s = %q, want a finite positive number", k, fields[k])
					}
				}
			}
		})
	}
}

func TestConfigCheck(t *testing.T) {
	for _, c := range []struct {
		cfg  config
		want string
	}{
		{config{store: "mysql", pairs: 1, reps: 1}, "-store"},
		{config{store: "sqlite", pairs: 0, reps: 1}, "-pairs"},
		{config{store: "sqlite", pairs: 1, reps: 0}, "-reps"},
		{config{store: "postgres", pairs: 1, reps: 1}, "-dsn"},
		{config{store: "sqlite", pairs: 1, reps: 1, lifecycle: true, telemetry: true}, "choose one"},
		{config{store: "sqlite", pairs: 1, reps: 1, orgs: 2, lifecycle: true}, "choose one"},
		{config{store: "sqlite", pairs: 1, reps: 1, latency: true}, "-calls"},
	} {
		if err := c.cfg.check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("check(%+v) = %v, want an error about %s", c.cfg, err, c.want)
		}
	}
	cfg := config{store: "sqlite", pairs: 100_000, reps: 1}
	if err := cfg.check(); err != nil || cfg.naivePairs != defaultNaivePairs {
		t.Errorf("check() = %v, naivePairs %d; want nil, %d", err, cfg.naivePairs, defaultNaivePairs)
	}
}

// TestModes runs the -orgs, -lifecycle, -telemetry and -latency modes on a tiny fixture and
// checks their BENCH lines.
func TestModes(t *testing.T) {
	for name, c := range map[string]struct {
		cfg    config
		phases []string
		keys   []string
	}{
		"orgs": {config{orgs: 3}, []string{"orgs"},
			[]string{"seconds", "per_sec", "sequential_seconds", "speedup_concurrent"}},
		"lifecycle": {config{lifecycle: true}, []string{"retire_stale", "return_outcomes"},
			[]string{"seconds", "plain_seconds", "ratio_plain"}},
		"telemetry": {config{telemetry: true}, []string{"telemetry"},
			[]string{"seconds", "plain_seconds", "ratio_plain"}},
		"latency": {config{latency: true, calls: 3}, []string{"latency"},
			[]string{"p50", "p99", "batch_p50", "batch_p99", "naive_p50", "naive_p99", "speedup_naive", "speedup_batch"}},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := c.cfg
			cfg.store, cfg.pairs, cfg.reps, cfg.seed, cfg.dir = "sqlite", 60, 1, 1, t.TempDir()
			var out bytes.Buffer
			if err := run(t.Context(), cfg, &out); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			lines = lines[len(lines)-len(c.phases):]
			for i, phase := range c.phases {
				fields := map[string]string{}
				for _, kv := range strings.Fields(lines[i])[1:] {
					k, v, _ := strings.Cut(kv, "=")
					fields[k] = v
				}
				if fields["store"] != "sqlite" || fields["phase"] != phase {
					t.Errorf("want a BENCH line of phase %s, got %q", phase, lines[i])
				}
				for _, k := range c.keys {
					if v, err := strconv.ParseFloat(fields[k], 64); err != nil || v <= 0 || math.IsInf(v, 0) {
						t.Errorf("%s = %q, want a finite positive number in %q", k, fields[k], lines[i])
					}
				}
			}
			if name == "orgs" && !strings.Contains(out.String(), "errors=0") {
				t.Errorf("concurrent calls failed:\n%s", out.String())
			}
		})
	}
}
