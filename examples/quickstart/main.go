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

// organization is the organization of every run but partialSnapshot's.
const organization = "550e8400-e29b-41d4-a716-446655440001"

func main() {
	dir := flag.String("dir", "", "directory for tasks.db (default: a new temporary directory)")
	flag.Parse()
	if err := run(context.Background(), *dir, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run opens the database in dir, takes it through every step of the
// quickstart and writes what happens to w.
func run(ctx context.Context, dir string, w io.Writer) error {
	path, err := databasePath(dir)
	if err != nil {
		return err
	}
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer store.Close()
	fmt.Fprintf(w, "database: %s\n\n", path)

	if err := store.PutActionVectors(ctx, seed()); err != nil {
		return err
	}
	d := demo{store: store, svc: taskcreate.New(store), w: w}
	for _, step := range []func(context.Context) error{d.twoRuns, d.retireStale, d.partialSnapshot, d.printTasks} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// databasePath returns the path of tasks.db in dir, made if need be, or
// in a new temporary directory when dir is "".
func databasePath(dir string) (string, error) {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "actionvector-quickstart-")
		if err != nil {
			return "", err
		}
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return filepath.Join(dir, "tasks.db"), nil
}

// demo is the quickstart's store, the service on it, and where it tells
// what happens.
type demo struct {
	store *sqlite.Store
	svc   *taskcreate.Service
	w     io.Writer
}

// request is the organization's request, as the run runID.
func request(runID string) taskcreate.Request {
	return taskcreate.Request{
		OrganizationID: organization,
		WorkflowRunID:  runID,
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
}

// twoRuns runs the same request twice, by two runs: the first creates the
// tasks, the second refreshes them.
func (d demo) twoRuns(ctx context.Context) error {
	for _, runID := range []string{"workflow-run-uuid-abc123", "workflow-run-uuid-def456"} {
		req := request(runID)
		res, err := d.svc.CreateTasks(ctx, req)
		if err != nil {
			return err
		}
		d.report(runID, req, res)
	}
	return nil
}

// retireStale loads a newer markdown snapshot that no longer recommends a
// discount for variant-uuid-4 in shop-uuid-1: a run that retires stale
// tasks dismisses its task. A dry run says so first, and writes nothing.
func (d demo) retireStale(ctx context.Context) error {
	newer := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	if err := d.store.PutActionVectors(ctx, []taskcreate.ActionVector{{OrganizationID: organization,
		VariantID: "variant-uuid-4", ShopID: "shop-uuid-1", SnapshotDate: newer, Domain: taskcreate.Markdown,
		Confidence: ref(0.8), Snapshot: json.RawMessage(`{"weeksOfStock":2}`)}}); err != nil {
		return err
	}
	fmt.Fprintln(d.w, "\nthe 2026-11-28 markdown snapshot recommends no discount for variant-uuid-4 in shop-uuid-1")
	req := request("workflow-run-uuid-ghi789")
	req.RetireStale = true
	return d.previewThenRun(ctx, req, func(label string, res taskcreate.Result, err error) error {
		if err == nil {
			d.report(label, req, res)
		}
		return err
	})
}

// previewThenRun makes the call of req as a dry run, then for real, and
// hands each outcome to see with the label of its run: the run's id,
// marked when dry.
func (d demo) previewThenRun(ctx context.Context, req taskcreate.Request, see func(label string, res taskcreate.Result, err error) error) error {
	for _, dryRun := range []bool{true, false} {
		req.DryRun = dryRun
		res, err := d.svc.CreateTasks(ctx, req)
		label := req.WorkflowRunID
		if dryRun {
			label += " (dry run)"
		}
		if err := see(label, res, err); err != nil {
			return err
		}
	}
	return nil
}

// report prints the counts of a run's result.
func (d demo) report(label string, req taskcreate.Request, res taskcreate.Result) {
	fmt.Fprintf(d.w, "run %s: created %d, updated %d, suppressed %d, skipped %d, unmatched %d", label,
		res.Created, res.Updated, res.Suppressed, res.Skipped, res.Unmatched)
	if req.RetireStale {
		fmt.Fprintf(d.w, ", retired %d", res.Retired)
	}
	fmt.Fprintf(d.w, " (%s)\n", res.SuccessCode)
}

// printTasks prints the organization's tasks as a table.
func (d demo) printTasks(ctx context.Context) error {
	tasks, err := d.store.ListTasks(ctx, taskcreate.TaskFilter{OrganizationID: organization})
	if err != nil {
		return err
	}
	fmt.Fprintf(d.w, "\n%d tasks:\n", len(tasks))
	tw := tabwriter.NewWriter(d.w, 0, 0, 2, ' ', 0)
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

// ref returns a pointer to a copy of v.
func ref[T any](v T) *T { return &v }

// optional formats *v, or "-" when v is nil.
func optional[T any](v *T, format func(T) string) string {
	if v == nil {
		return "-"
	}
	return format(*v)
}

// percent formats a discount.
func percent(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) + "%" }

// decimal formats a confidence.
func decimal(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
