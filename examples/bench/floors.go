package main

import (
	"context"
	"fmt"
)

// timeFloors stages the rows the last call wrote and times the floors on
// them: F1, F3 into an empty table and onto the full one, and F_R.
func (s *session) timeFloors(ctx context.Context) error {
	r := s.r
	eligible := r.expected.Created
	s.cfg.progressf("floors: staging the %d rows the last call wrote", eligible)
	s.req.WorkflowRunID = "bench-floors"
	fl, err := s.db.Floors(ctx, s.req)
	if err != nil {
		return err
	}
	if r.f1Rows = fl.Rows(); r.f1Rows != eligible {
		return fmt.Errorf("floors: staged %d rows, the call wrote %d", r.f1Rows, eligible)
	}
	s.cfg.progressf("F1: bulk load into an unindexed copy")
	if r.f1, err = timeRuns(ctx, s.db, s.cfg.reps, fl.ClearF1, ignoreRun(fl.LoadF1)); err != nil {
		return fmt.Errorf("F1: %w", err)
	}
	if err := s.timeF3(ctx, fl); err != nil {
		return err
	}
	return s.timeFR(ctx, fl)
}

// f3Run is the run a repetition of F3 writes its rows as.
func f3Run(run string) string { return "bench-f3-" + run }

// timeF3 times the server-side upsert of the staged rows into an empty
// table, then onto the full one, then each again after F_R in the same
// transaction (F_RW), and checks what the last one left.
func (s *session) timeF3(ctx context.Context, fl floors) (err error) {
	r := s.r
	// Each repetition writes the rows as a run of its own, so that onto the
	// full table every row changes its run, as an update call's rows do.
	upsertF3 := func(ctx context.Context, run string) error { return fl.UpsertF3(ctx, f3Run(run)) }
	callFloor := func(ctx context.Context, run string) error { return fl.CallFloor(ctx, f3Run(run)) }
	for _, m := range []struct {
		name, what  string
		call        func(context.Context, string) error
		empty, full *[]float64
	}{
		{"F3", "server-side upsert", upsertF3, &r.f3Empty, &r.f3Full},
		{"F_RW", "F_R then F3 in one transaction", callFloor, &r.rwEmpty, &r.rwFull},
	} {
		s.cfg.progressf("%s: %s into an empty table, then onto the full one", m.name, m.what)
		if *m.empty, err = timeRuns(ctx, s.db, s.cfg.reps, fl.ClearF3, m.call); err != nil {
			return fmt.Errorf("%s into an empty table: %w", m.name, err)
		}
		if *m.full, err = timeRuns(ctx, s.db, s.cfg.reps, nil, m.call); err != nil {
			return fmt.Errorf("%s onto the full table: %w", m.name, err)
		}
	}
	rows, ofRun, err := fl.CountF3(ctx, f3Run(runName(s.cfg.reps)))
	if err != nil {
		return fmt.Errorf("F3: %w", err)
	}
	if rows != r.f1Rows || ofRun != rows {
		return fmt.Errorf("F3 onto the full table left %d rows, %d of its last run; want %d, all of it", rows, ofRun, r.f1Rows)
	}
	return nil
}

// timeFR times the server-side read of the perimeter's latest action
// vectors, which must find one for every matched candidate.
func (s *session) timeFR(ctx context.Context, fl floors) (err error) {
	r := s.r
	s.cfg.progressf("F_R: server-side read of the perimeter's latest action vectors")
	readFR := func(ctx context.Context, _ string) (err error) {
		r.frRows, err = fl.ReadFR(ctx)
		return err
	}
	if r.fr, err = timeRuns(ctx, s.db, s.cfg.reps, nil, readFR); err != nil {
		return fmt.Errorf("F_R: %w", err)
	}
	if want := r.candidates - r.expected.Unmatched; r.frRows != want {
		return fmt.Errorf("F_R read %d action vectors, the call matched %d candidates", r.frRows, want)
	}
	return nil
}
