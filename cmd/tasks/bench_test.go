package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actionvector/tasks/store/sqlite"
	"github.com/actionvector/tasks/taskcreate"
)

// benchRows is the size of the benchmark's export.
const benchRows = 100_000

// benchVectors returns n action vectors of one organization and day, in
// the three domains, each with a recommendation, a confidence and a why.
func benchVectors(n int) []taskcreate.ActionVector {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	domains := taskcreate.Domains()
	rows := make([]taskcreate.ActionVector, n)
	for i := range rows {
		confidence := float64(i%100) / 100
		v := taskcreate.ActionVector{OrganizationID: demoOrg, VariantID: fmt.Sprintf("variant-%06d", i/len(domains)),
			ShopID: fmt.Sprintf("shop-%03d", i%97), SnapshotDate: day, Domain: domains[i%len(domains)], Confidence: &confidence,
			Snapshot: json.RawMessage(fmt.Sprintf(`{"daysOfCover":%d.5,"forecast7d":%d}`, i%9, i%40))}
		if v.Domain == taskcreate.Markdown {
			pct := float64(5 + i%30)
			v.RecommendedDiscountPct = &pct
		} else {
			qty := i % 50
			v.RecommendedQty = &qty
		}
		rows[i] = v
	}
	return rows
}

// writeExport writes rows as the CSV export load reads.
func writeExport(b *testing.B, path string, rows []taskcreate.ActionVector) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := csv.NewWriter(f)
	_ = w.Write(columnNames())
	text := func(f *float64) string {
		if f == nil {
			return ""
		}
		return strconv.FormatFloat(*f, 'g', -1, 64)
	}
	for _, v := range rows {
		qty := ""
		if v.RecommendedQty != nil {
			qty = strconv.Itoa(*v.RecommendedQty)
		}
		_ = w.Write([]string{v.OrganizationID, v.VariantID, v.ShopID, v.SnapshotDate.Format(time.DateOnly), string(v.Domain),
			qty, text(v.RecommendedDiscountPct), text(v.Confidence), string(v.Snapshot)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLoad loads 100,000 action vectors into a new SQLite file per
// iteration: with the load command from a CSV file, and with
// PutActionVectors called directly with the same rows in batches of the
// same size, so that their ratio is what reading, parsing and checking
// the file cost. Both open and migrate the database.
func BenchmarkLoad(b *testing.B) {
	dir := b.TempDir()
	rows := benchVectors(benchRows)
	export := filepath.Join(dir, "export.csv")
	writeExport(b, export, rows)
	iteration := 0
	newDB := func() string {
		iteration++
		return filepath.Join(dir, fmt.Sprintf("bench-%d.db", iteration))
	}
	rowsPerSecond := func(b *testing.B, n int) {
		b.ReportMetric(float64(benchRows*n)/b.Elapsed().Seconds(), "rows/s")
	}

	b.Run("command", func(b *testing.B) {
		n := 0
		for b.Loop() {
			var stderr strings.Builder
			args := []string{"load", "-db", newDB(), "-batch", strconv.Itoa(defaultBatch), export}
			if code := run(b.Context(), args, strings.NewReader(""), io.Discard, &stderr, env(nil)); code != exitOK {
				b.Fatalf("load: exit %d: %s", code, stderr.String())
			}
			n++
		}
		rowsPerSecond(b, n)
	})
	b.Run("PutActionVectors", func(b *testing.B) {
		n := 0
		for b.Loop() {
			s, err := sqlite.Open(b.Context(), newDB())
			if err != nil {
				b.Fatal(err)
			}
			for lo := 0; lo < len(rows); lo += defaultBatch {
				if err := s.PutActionVectors(b.Context(), rows[lo:min(lo+defaultBatch, len(rows))]); err != nil {
					b.Fatal(err)
				}
			}
			s.Close()
			n++
		}
		rowsPerSecond(b, n)
	})
}
