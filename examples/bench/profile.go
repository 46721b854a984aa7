package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
)

// profileCalls runs one create call (on an empty table) and one update
// call under the profilers, outside the timed repetitions so that
// profiling never slows a timed call. It returns the profiles written.
func profileCalls(ctx context.Context, cfg config, db database, create, update func(context.Context, string) error) ([]string, error) {
	var written []string
	if err := prepareRun(ctx, db, db.ClearTasks); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		phase string
		call  func(context.Context, string) error
	}{{"create", create}, {"update", update}} {
		cpu, err := profileCall(ctx, cfg, c.phase, c.call)
		if err != nil {
			return nil, err
		}
		if cpu != "" {
			written = append(written, cpu)
		}
	}
	if cfg.memProfile != "" {
		if err := writeAllocProfile(cfg.memProfile); err != nil {
			return nil, err
		}
		written = append(written, cfg.memProfile)
	}
	return written, nil
}

// profileCall makes call under the profilers the flags ask for, sampling
// allocations only while it runs, and returns the path of its CPU
// profile, or "" without one.
func profileCall(ctx context.Context, cfg config, phase string, call func(context.Context, string) error) (cpu string, err error) {
	runtime.GC()
	if cfg.memProfile != "" {
		runtime.MemProfileRate = 512 * 1024 // the runtime's default
	}
	defer func() { runtime.MemProfileRate = 0 }()
	if cfg.cpuProfile != "" {
		cpu = withPhase(cfg.cpuProfile, phase)
		stop, err := startCPUProfile(cpu)
		if err != nil {
			return "", err
		}
		defer func() {
			if serr := stop(); err == nil {
				err = serr
			}
		}()
	}
	return cpu, call(ctx, "profiled")
}

// startCPUProfile starts the CPU profiler on a new file at path, and
// returns the function that stops it and closes the file.
func startCPUProfile(path string) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// writeAllocProfile writes the allocation profile to a new file at path.
func writeAllocProfile(path string) error {
	runtime.GC() // the allocation profile is as of the last collection
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = pprof.Lookup("allocs").WriteTo(f, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// withPhase inserts the phase before the extension: cpu.pprof becomes
// cpu.create.pprof.
func withPhase(path, phase string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + phase + ext
}
