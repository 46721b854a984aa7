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
		for _, k := range []string{"seconds", "per_sec", "ratio_f3", "ratio_f1", "speedup_naive", "alloc_bytes_per_candidate"} {
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
	"speedup_naive", "alloc_bytes_per_candidate"}

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

func TestConfigCheck(t *testing.T) {
	for _, c := range []struct {
		cfg  config
		want string
	}{
		{config{store: "mysql", pairs: 1, reps: 1}, "-store"},
		{config{store: "sqlite", pairs: 0, reps: 1}, "-pairs"},
		{config{store: "sqlite", pairs: 1, reps: 0}, "-reps"},
		{config{store: "postgres", pairs: 1, reps: 1}, "-dsn"},
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
