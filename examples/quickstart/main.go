// Command quickstart creates ACTION_VECTOR tasks on an embedded SQLite
// database: it seeds a day of recommendations, runs two workflow runs over
// the same perimeter, then a third after a newer snapshot stops
// recommending one of the tasks, which it retires (previewed first by a dry
// run), and prints what each did and the tasks that result. A second
// organization shows the retirement budget refusing a run that meets a
// snapshot the data platform is still loading.
//
//	go run ./examples/quickstart            # database in a new temporary directory
//	go run ./examples/quickstart -dir data  # database in ./data/tasks.db
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/taskcreate"
)

const organization = "550e8400-e29b-41d4-a716-446655440001"

func main() {
	dir := flag.String("dir", "", "directory for tasks.db (default: a new temporary directory)")
	flag.Parse()
	if err := run(context.Background(), *dir, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, dir string, w io.Writer) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "actionvector-quickstart-")
		if err != nil {
			return err
		}
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, "tasks.db")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer store.Close()
	fmt.Fprintf(w, "database: %s\n\n", path)

	if err := store.PutActionVectors(ctx, seed()); err != nil {
		return err
	}

	svc := taskcreate.New(store)
	req := taskcreate.Request{
		OrganizationID: organization,
		WorkflowRunID:  "workflow-run-uuid-abc123",
		Domains:        []taskcreate.Domain{taskcreate.Restock, taskcreate.Rebalance, taskcreate.Markdown},
		MinConfidence:  0.6,
		Perimeter: []taskcreate.Pair{
			{VariantID: "variant-uuid-1", ShopID: "shop-uuid-1"},
			{VariantID: "variant-uuid-2", ShopID: "shop-uuid-2"},
			{VariantID: "variant-uuid-3", ShopID: "shop-uuid-1"},
			{VariantID: "variant-uuid-1", ShopID: "shop-uuid-2"},
			{VariantID: "variant-uuid-2", ShopID: "shop-uuid-1"},
			{VariantID: "variant-uuid-4", ShopID: "shop-uuid-1"},
			{VariantID: "variant-uuid-4", ShopID: "shop-uuid-2"},
		},
	}
	report := func(label string, res taskcreate.Result) {
		fmt.Fprintf(w, "run %s: created %d, updated %d, suppressed %d, skipped %d, unmatched %d", label,
			res.Created, res.Updated, res.Suppressed, res.Skipped, res.Unmatched)
		if req.RetireStale {
			fmt.Fprintf(w, ", retired %d", res.Retired)
		}
		fmt.Fprintf(w, " (%s)\n", res.SuccessCode)
	}
	for _, runID := range []string{"workflow-run-uuid-abc123", "workflow-run-uuid-def456"} {
		req.WorkflowRunID = runID
		res, err := svc.CreateTasks(ctx, req)
		if err != nil {
			return err
		}
		report(runID, res)
	}

	// A newer markdown snapshot no longer recommends a discount for
	// variant-uuid-4 in shop-uuid-1: a run that retires stale tasks
	// dismisses its task. A dry run says so first, and writes nothing.
	newer := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	if err := store.PutActionVectors(ctx, []taskcreate.ActionVector{{OrganizationID: organization,
		VariantID: "variant-uuid-4", ShopID: "shop-uuid-1", SnapshotDate: newer, Domain: taskcreate.Markdown,
		Confidence: ref(0.8), Snapshot: json.RawMessage(`{"weeksOfStock":2}`)}}); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nthe 2026-11-28 markdown snapshot recommends no discount for variant-uuid-4 in shop-uuid-1")
	req.WorkflowRunID, req.RetireStale = "workflow-run-uuid-ghi789", true
	for _, dryRun := range []bool{true, false} {
		req.DryRun = dryRun
		res, err := svc.CreateTasks(ctx, req)
		if err != nil {
			return err
		}
		label := req.WorkflowRunID
		if dryRun {
			label += " (dry run)"
		}
		report(label, res)
	}

	if err := partialSnapshot(ctx, store, svc, w); err != nil {
		return err
	}

	tasks, err := store.ListTasks(ctx, taskcreate.TaskFilter{OrganizationID: organization})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d tasks:\n", len(tasks))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DOMAIN\tSHOP\tVARIANT\tSTATUS\tPRIORITY\tQTY\tDISCOUNT\tCONFIDENCE\tSNAPSHOT\tRUN\tEVIDENCE")
	for _, t := range tasks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Domain, t.ShopID, t.VariantID, t.Status, t.Priority,
			optional(t.RecommendedQty, strconv.Itoa), optional(t.RecommendedDiscountPct, percent),
			optional(t.Confidence, decimal), t.SnapshotDate.Format(time.DateOnly), t.WorkflowRunID, t.Evidence)
	}
	return tw.Flush()
}

// seed returns two days of recommendations for the organization. Only the
// latest day (2026-11-27) counts; its rows show every outcome.
func seed() []taskcreate.ActionVector {
	latest := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	older := latest.AddDate(0, 0, -1)
	row := func(day time.Time, d taskcreate.Domain, variant, shop string, qty *int, pct, conf *float64, why string) taskcreate.ActionVector {
		return taskcreate.ActionVector{OrganizationID: organization, VariantID: variant, ShopID: shop, SnapshotDate: day,
			Domain: d, RecommendedQty: qty, RecommendedDiscountPct: pct, Confidence: conf, Snapshot: json.RawMessage(why)}
	}
	return []taskcreate.ActionVector{
		// created: confident restock
		row(latest, taskcreate.Restock, "variant-uuid-1", "shop-uuid-1", ref(24), nil, ref(0.91), `{"daysOfCover":1.5,"forecast7d":31}`),
		// suppressed: confidence 0.55 is below 0.6
		row(latest, taskcreate.Restock, "variant-uuid-2", "shop-uuid-2", ref(10), nil, ref(0.55), `{"daysOfCover":4}`),
		// skipped: nothing to reorder
		row(latest, taskcreate.Restock, "variant-uuid-3", "shop-uuid-1", ref(0), nil, ref(0.8), `{"daysOfCover":21}`),
		// created: a NULL confidence is never suppressed
		row(latest, taskcreate.Rebalance, "variant-uuid-1", "shop-uuid-2", ref(6), nil, nil, `{"from":"shop-uuid-3","overstock":9}`),
		// suppressed
		row(latest, taskcreate.Rebalance, "variant-uuid-2", "shop-uuid-1", ref(4), nil, ref(0.4), `{"from":"shop-uuid-2"}`),
		// created: a 20% markdown
		row(latest, taskcreate.Markdown, "variant-uuid-4", "shop-uuid-1", nil, ref(20.0), ref(0.75), `{"weeksOfStock":14}`),
		// skipped: no discount recommended
		row(latest, taskcreate.Markdown, "variant-uuid-4", "shop-uuid-2", nil, nil, ref(0.9), `{"weeksOfStock":3}`),
		// unmatched: only in the older snapshot, which is never used
		row(older, taskcreate.Restock, "variant-uuid-4", "shop-uuid-2", ref(30), nil, ref(0.95), `{"daysOfCover":0.5}`),
	}
}

// partialSnapshot has a second organization's run meet a snapshot of
// which only 10 of 40 positions are loaded: every other position reads as
// unmatched, and retiring their tasks would empty most of the board. The
// retirement budget refuses the run, in its dry run too, and writes
// nothing; once the snapshot is whole the run goes through.
func partialSnapshot(ctx context.Context, store *sqlite.Store, svc *taskcreate.Service, w io.Writer) error {
	const org = "550e8400-e29b-41d4-a716-446655440002"
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	rows := func(date time.Time, n int) []taskcreate.ActionVector {
		var out []taskcreate.ActionVector
		for i := range n {
			out = append(out, taskcreate.ActionVector{OrganizationID: org, VariantID: fmt.Sprintf("variant-uuid-%d", 100+i),
				ShopID: "shop-uuid-9", SnapshotDate: date, Domain: taskcreate.Restock, RecommendedQty: ref(5),
				Confidence: ref(0.9), Snapshot: json.RawMessage(`{"daysOfCover":2}`)})
		}
		return out
	}
	if done, err := store.ListTasks(ctx, taskcreate.TaskFilter{OrganizationID: org}); err != nil || len(done) > 0 {
		if err == nil {
			fmt.Fprintf(w, "\norganization %s already has its tasks: the retirement budget shows on a new database\n", org)
		}
		return err
	}
	req := taskcreate.Request{OrganizationID: org, WorkflowRunID: "workflow-run-uuid-jkl012",
		Domains: []taskcreate.Domain{taskcreate.Restock}, MinConfidence: 0.6}
	for _, v := range rows(day(27), 40) {
		req.Perimeter = append(req.Perimeter, taskcreate.Pair{VariantID: v.VariantID, ShopID: v.ShopID})
	}
	if err := store.PutActionVectors(ctx, rows(day(27), 40)); err != nil {
		return err
	}
	res, err := svc.CreateTasks(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\norganization %s: run %s created %d tasks from the 2026-11-27 snapshot\n", org, req.WorkflowRunID, res.Created)

	if err := store.PutActionVectors(ctx, rows(day(29), 10)); err != nil {
		return err
	}
	fmt.Fprintln(w, "the 2026-11-29 snapshot is still loading: 10 of its 40 positions are there")
	req.WorkflowRunID, req.RetireStale = "workflow-run-uuid-mno345", true
	for _, dryRun := range []bool{true, false} {
		req.DryRun = dryRun
		_, err := svc.CreateTasks(ctx, req)
		var refused *taskcreate.RetireBudgetError
		if !errors.As(err, &refused) {
			return fmt.Errorf("want the retirement budget to refuse the run, got %v", err)
		}
		label := req.WorkflowRunID
		if dryRun {
			label += " (dry run)"
		}
		fmt.Fprintf(w, "run %s: refused, it would retire %d of %d open tasks (budget %g); nothing written\n",
			label, refused.WouldRetire, refused.Open, refused.Budget)
	}
	if err := store.PutActionVectors(ctx, rows(day(29), 40)); err != nil {
		return err
	}
	req.DryRun = false
	if res, err = svc.CreateTasks(ctx, req); err != nil {
		return err
	}
	fmt.Fprintf(w, "once it is whole, run %s: updated %d, retired %d\n", req.WorkflowRunID, res.Updated, res.Retired)
	return nil
}

func ref[T any](v T) *T { return &v }

func optional[T any](v *T, format func(T) string) string {
	if v == nil {
		return "-"
	}
	return format(*v)
}

func percent(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) + "%" }
func decimal(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
