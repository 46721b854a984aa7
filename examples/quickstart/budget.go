package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/actionvector/tasks/taskcreate"
)

// partialSnapshot has a second organization's run meet a snapshot of
// which only 10 of 40 positions are loaded: every other position reads as
// unmatched, and retiring their tasks would empty most of the board. The
// retirement budget refuses the run, in its dry run too, and writes
// nothing; once the snapshot is whole the run goes through.
func (d demo) partialSnapshot(ctx context.Context) error {
	if done, err := d.store.ListTasks(ctx, taskcreate.TaskFilter{OrganizationID: secondOrganization}); err != nil || len(done) > 0 {
		if err == nil {
			fmt.Fprintf(d.w, "\norganization %s already has its tasks: the retirement budget shows on a new database\n", secondOrganization)
		}
		return err
	}
	req := taskcreate.Request{OrganizationID: secondOrganization, WorkflowRunID: "workflow-run-uuid-jkl012",
		Domains: []taskcreate.Domain{taskcreate.Restock}, MinConfidence: 0.6}
	for _, v := range restocks(day(27), 40) {
		req.Perimeter = append(req.Perimeter, taskcreate.Pair{VariantID: v.VariantID, ShopID: v.ShopID})
	}
	if err := d.store.PutActionVectors(ctx, restocks(day(27), 40)); err != nil {
		return err
	}
	res, err := d.svc.CreateTasks(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.w, "\norganization %s: run %s created %d tasks from the 2026-11-27 snapshot\n", secondOrganization, req.WorkflowRunID, res.Created)

	if err := d.store.PutActionVectors(ctx, restocks(day(29), 10)); err != nil {
		return err
	}
	fmt.Fprintln(d.w, "the 2026-11-29 snapshot is still loading: 10 of its 40 positions are there")
	req.WorkflowRunID, req.RetireStale = "workflow-run-uuid-mno345", true
	if err := d.previewThenRun(ctx, req, d.reportRefusal); err != nil {
		return err
	}
	if err := d.store.PutActionVectors(ctx, restocks(day(29), 40)); err != nil {
		return err
	}
	if res, err = d.svc.CreateTasks(ctx, req); err != nil {
		return err
	}
	fmt.Fprintf(d.w, "once it is whole, run %s: updated %d, retired %d\n", req.WorkflowRunID, res.Updated, res.Retired)
	return nil
}

// secondOrganization is the organization of partialSnapshot.
const secondOrganization = "550e8400-e29b-41d4-a716-446655440002"

// day is the given day of November 2026.
func day(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }

// restocks are the first n of the second organization's 40 positions,
// each recommending a confident restock in the snapshot of date.
func restocks(date time.Time, n int) []taskcreate.ActionVector {
	var out []taskcreate.ActionVector
	for i := range n {
		out = append(out, taskcreate.ActionVector{OrganizationID: secondOrganization, VariantID: fmt.Sprintf("variant-uuid-%d", 100+i),
			ShopID: "shop-uuid-9", SnapshotDate: date, Domain: taskcreate.Restock, RecommendedQty: ref(5),
			Confidence: ref(0.9), Snapshot: json.RawMessage(`{"daysOfCover":2}`)})
	}
	return out
}

// reportRefusal prints the retirement budget's refusal of a run, and
// fails on any other outcome.
func (d demo) reportRefusal(label string, _ taskcreate.Result, err error) error {
	var refused *taskcreate.RetireBudgetError
	if !errors.As(err, &refused) {
		return fmt.Errorf("want the retirement budget to refuse the run, got %v", err)
	}
	fmt.Fprintf(d.w, "run %s: refused, it would retire %d of %d open tasks (budget %g); nothing written\n",
		label, refused.WouldRetire, refused.Open, refused.Budget)
	return nil
}
