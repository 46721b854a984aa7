package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The export the tests and the replay load, in both formats.
var (
	exportCSV   = filepath.Join("testdata", "action_vectors.csv")
	exportJSONL = filepath.Join("testdata", "action_vectors.jsonl")
)

// actionVectors returns the rows of the store's action-vector table as
// text, normalized as normalizeRow does, in primary-key order.
func (s testStore) actionVectors(t *testing.T) [][]string {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(), `SELECT organization_id, variant_id, shop_id, snapshot_date, domain, recommended_qty,
		recommended_discount_pct, recommendation_confidence, decision_vector_snapshot FROM `+s.table("action_vector"))
	require.NoError(t, err)
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		cells := make([]sql.NullString, 9)
		dest := make([]any, len(cells))
		for i := range cells {
			dest[i] = &cells[i]
		}
		require.NoError(t, rows.Scan(dest...))
		row := make([]string, len(cells))
		for i, c := range cells {
			row[i] = c.String // NULL: ""
		}
		out = append(out, normalizeRow(t, row))
	}
	require.NoError(t, rows.Err())
	return sortedRows(out)
}

// sortedRows returns rows of the action-vector table in primary-key order.
func sortedRows(rows [][]string) [][]string {
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b []string) int { return slices.Compare(a[:5], b[:5]) })
	return rows
}

// normalizeRow writes a row of the nine columns so that SQLite's,
// PostgreSQL's and the CSV file's texts of one value are equal: the date
// alone, numbers in their shortest form, JSON with sorted keys.
func normalizeRow(t *testing.T, row []string) []string {
	t.Helper()
	out := slices.Clone(row)
	out[3], _, _ = strings.Cut(out[3], "T") // PostgreSQL's date scans as a time
	for _, i := range []int{5, 6, 7, 8} {   // the numbers, and the snapshot
		if out[i] == "" {
			continue // NULL
		}
		var v any
		require.NoError(t, json.Unmarshal([]byte(out[i]), &v), "column %d of %v", i, row)
		b, err := json.Marshal(v)
		require.NoError(t, err)
		out[i] = string(b)
	}
	return out
}

// exportRows returns the rows of the CSV export as the test reads it with
// encoding/csv, normalized as the store's rows are, in the file's order.
func exportRows(t *testing.T) [][]string {
	t.Helper()
	f, err := os.Open(exportCSV)
	require.NoError(t, err)
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Equal(t, columnNames(), records[0], "the export's header is the table's columns, in order")
	var rows [][]string
	for _, r := range records[1:] {
		rows = append(rows, normalizeRow(t, r))
	}
	return rows
}

// exportLines returns the lines of an export file, its header first for CSV.
func exportLines(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// writeFile writes lines to a file of the test's named name and returns its path.
func writeFile(t *testing.T, name string, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	return path
}

// load writes the rows of the CSV file and of the JSON-lines file, each
// into an empty store, exactly as encoding/csv reads the CSV file.
func TestLoadCSVAndJSONLines(t *testing.T) {
	onEachStore(t, func(t *testing.T, newStore func(*testing.T) testStore) {
		want := sortedRows(exportRows(t))
		for _, file := range []string{exportCSV, exportJSONL} {
			t.Run(filepath.Ext(file), func(t *testing.T) {
				s := newStore(t)
				r := tasks(t, s.vars, "", "load", file)
				require.Equal(t, exitOK, r.code, r.stderr)
				assert.Equal(t, fmt.Sprintf("loaded %d action vectors in 1 batch\n", len(want)), r.stdout)
				assert.Equal(t, want, s.actionVectors(t))
				assert.Empty(t, r.stderr, "no progress line off a terminal")

				r = tasks(t, s.vars, "", "load", "-batch", "4", file)
				require.Equal(t, exitOK, r.code, r.stderr)
				assert.Equal(t, fmt.Sprintf("loaded %d action vectors in 2 batches\n", len(want)), r.stdout)
				assert.Equal(t, want, s.actionVectors(t), "loading again upserts on the primary key")
			})
		}
		t.Run("standard input", func(t *testing.T) {
			s := newStore(t)
			data, err := os.ReadFile(exportJSONL)
			require.NoError(t, err)
			r := tasks(t, s.vars, string(data), "load", "-format", "jsonl", "-")
			require.Equal(t, exitOK, r.code, r.stderr)
			assert.Equal(t, want, s.actionVectors(t))
		})
	})
}

// A bad record stops the load with its line and column, exit 2: the
// batch it is in is not written, not even its good rows before it, and
// the batches before it stay.
func TestLoadStopsAtABadRecord(t *testing.T) {
	onEachStore(t, func(t *testing.T, newStore func(*testing.T) testStore) {
		for _, file := range []string{exportCSV, exportJSONL} {
			t.Run(filepath.Ext(file), func(t *testing.T) {
				s := newStore(t)
				lines := exportLines(t, file)
				header := 0
				if file == exportCSV {
					header = 1
				}
				// With -batch 2: rows 1 and 2 are a batch, 3 and 4 the next;
				// row 4 has a quantity of "12 units".
				bad := lines[header+3]
				bad = strings.Replace(bad, map[bool]string{true: ",6,,", false: `"recommended_qty":6,`}[file == exportCSV],
					map[bool]string{true: ",12 units,,", false: `"recommended_qty":"12 units",`}[file == exportCSV], 1)
				require.NotEqual(t, lines[header+3], bad, "the row to spoil has the quantity 6")
				lines[header+3] = bad
				column := strings.Index(bad, "12 units") + 1
				if file == exportJSONL {
					column-- // the value starts at its quote
				}
				path := writeFile(t, "export"+filepath.Ext(file), lines...)

				r := tasks(t, s.vars, "", "load", "-batch", "2", path)
				assert.Equal(t, exitInvalid, r.code)
				assert.Contains(t, r.stderr, fmt.Sprintf("line %d, column %d (recommended_qty): must be ", header+4, column))
				assert.Contains(t, r.stderr, "nothing of its batch was written; the 2 action vectors in 1 batch before it were")
				assert.Empty(t, r.stdout)
				all := exportRows(t)
				assert.Equal(t, sortedRows(all[:2]), s.actionVectors(t), "the first batch, and nothing of the second")
			})
		}
	})
}

// Each problem of a record is named by its line and column, and the
// column's name; a bad first record never opens the store.
func TestLoadNamesWhereARecordIsWrong(t *testing.T) {
	header := strings.Join(columnNames(), ",")
	good := exportLines(t, exportCSV)[1]
	goodJSON := exportLines(t, exportJSONL)[0]
	// at returns "line, column (name)" of the first occurrence of marker in
	// line, the (1-based) column of marker itself.
	at := func(lineNo int, line, marker, name string) string {
		i := strings.Index(line, marker)
		require.GreaterOrEqual(t, i, 0, "%q in %q", marker, line)
		return fmt.Sprintf("line %d, column %d (%s): ", lineNo, i+1, name)
	}
	csvRow := func(from, to string) string {
		row := strings.Replace(good, from, to, 1)
		require.NotEqual(t, good, row, "%q is in the row", from)
		return row
	}
	jsonRow := func(from, to string) string {
		row := strings.Replace(goodJSON, from, to, 1)
		require.NotEqual(t, goodJSON, row, "%q is in the line", from)
		return row
	}
	twoProblems := csvRow(",20,", ",x,")
	twoProblems = strings.Replace(twoProblems, ",restock,", ",clearance,", 1)
	renamed := strings.Replace(header, "recommendation_confidence", "confidence", 1)
	// value returns "line, column (key)" of the value of key in the JSON line.
	value := func(lineNo int, line, key string) string {
		i := strings.Index(line, `"`+key+`":`)
		require.GreaterOrEqual(t, i, 0, "%q in %q", key, line)
		return fmt.Sprintf("line %d, column %d (%s): ", lineNo, i+len(key)+4, key)
	}
	tests := []struct {
		name  string
		file  string // name of the input
		lines []string
		want  []string // in the error
	}{
		{name: "not an integer", file: "x.csv", lines: []string{header, csvRow(",20,", ",twenty,")},
			want: []string{at(2, csvRow(",20,", ",twenty,"), "twenty", "recommended_qty") + `must be an integer, got "twenty"`}},
		{name: "empty identifier", file: "x.csv", lines: []string{header, csvRow(",shop-uuid-1,", ",,")},
			want: []string{fmt.Sprintf("line 2, column %d (shop_id): is required", strings.Index(good, "shop-uuid-1")+1)}},
		{name: "unknown domain", file: "x.csv", lines: []string{header, csvRow(",restock,", ",clearance,")},
			want: []string{at(2, csvRow(",restock,", ",clearance,"), "clearance", "domain") + `must be one of`}},
		{name: "not a date", file: "x.csv", lines: []string{header, csvRow("2026-11-26", "2026-13-01")},
			want: []string{at(2, good, "2026-11-26", "snapshot_date") + `must be a date, YYYY-MM-DD, got "2026-13-01"`}},
		{name: "not a finite number", file: "x.csv", lines: []string{header, csvRow(",0.88,", ",NaN,")},
			want: []string{at(2, csvRow(",0.88,", ",NaN,"), "NaN", "recommendation_confidence") + "must be a finite number"}},
		{name: "snapshot not JSON", file: "x.csv", lines: []string{header, csvRow(`"{""daysOfCover""`, `"{daysOfCover""`)},
			want: []string{"(decision_vector_snapshot): must be valid JSON"}},
		{name: "two problems at once, in the line's order", file: "x.csv", lines: []string{header, twoProblems},
			want: []string{fmt.Sprintf(`line 2, column %d (domain): must be one of "restock", "rebalance", "markdown", got "clearance"; line 2, column %d (recommended_qty): must be an integer, got "x" (nothing was written)`,
				strings.Index(twoProblems, ",clearance,")+2, strings.Index(twoProblems, ",x,")+2)}},
		{name: "too few fields", file: "x.csv", lines: []string{header, good, "a,b,c"},
			want: []string{"line 3: wrong number of fields"}},
		{name: "a bare quote", file: "x.csv", lines: []string{header, `550e8400,variant"1,shop,2026-11-26,restock,1,,,{}`},
			want: []string{`line 2, column 17: bare " in non-quoted-field`}},
		{name: "unknown column", file: "x.csv", lines: []string{renamed, good},
			want: []string{fmt.Sprintf(`line 1, column %d: unknown column "confidence"`, strings.Index(renamed, ",confidence")+2)}},
		{name: "repeated column", file: "x.csv", lines: []string{header + ",domain", good + ",restock"},
			want: []string{fmt.Sprintf("line 1, column %d: column \"domain\" again, first at column %d", len(header)+2, strings.Index(header, "domain")+1)}},
		{name: "required column missing", file: "x.csv", lines: []string{strings.TrimSuffix(header, ",decision_vector_snapshot"), "o,v,s,2026-11-26,restock,1,,"},
			want: []string{"line 1: the header has no column decision_vector_snapshot"}},
		{name: "empty file", file: "x.csv", lines: []string{}, want: []string{"line 1: the input is empty"}},
		{name: "a string for a number", file: "x.jsonl", lines: []string{jsonRow(`"recommended_qty":20`, `"recommended_qty":"20"`)},
			want: []string{value(1, goodJSON, "recommended_qty") + "must be a number"}},
		{name: "a number for a string", file: "x.jsonl", lines: []string{goodJSON, jsonRow(`"shop_id":"shop-uuid-1"`, `"shop_id":7`)},
			want: []string{value(2, goodJSON, "shop_id") + "must be a string"}},
		{name: "null for a required value", file: "x.jsonl", lines: []string{jsonRow(`"variant_id":"variant-uuid-1"`, `"variant_id":null`)},
			want: []string{value(1, goodJSON, "variant_id") + "is required"}},
		{name: "missing key", file: "x.jsonl", lines: []string{jsonRow(`,"variant_id":"variant-uuid-1"`, ``)},
			want: []string{"line 1 (variant_id): is required"}},
		{name: "a lone surrogate", file: "x.jsonl", lines: []string{jsonRow(`"shop_id":"shop-uuid-1"`, `"shop_id":"shop-\ud800"`)},
			want: []string{value(1, goodJSON, "shop_id") + `must be valid UTF-8 (no \u escape of a lone surrogate)`}},
		{name: "an escaped replacement character is fine", file: "x.jsonl",
			lines: []string{jsonRow(`"shop_id":"shop-uuid-1"`, `"shop_id":"shop-\ufffd"`), `{"organization_id":""}`},
			want:  []string{"line 2, column 20 (organization_id): is required"}},
		{name: "unknown key", file: "x.jsonl", lines: []string{jsonRow(`"domain"`, `"Domain"`)},
			want: []string{at(1, jsonRow(`"domain"`, `"Domain"`), `"Domain"`, "Domain") + "unknown column"}},
		{name: "repeated key", file: "x.jsonl", lines: []string{strings.TrimSuffix(goodJSON, "}") + `,"domain":"markdown"}`},
			want: []string{fmt.Sprintf("line 1, column %d (domain): repeated; first at column %d", len(goodJSON)+1, strings.Index(goodJSON, `"restock"`)+1)}},
		{name: "not an object", file: "x.jsonl", lines: []string{"", "  [1, 2]"}, want: []string{"line 2, column 3: not a JSON object"}},
		{name: "cut short", file: "x.jsonl", lines: []string{goodJSON[:40]}, want: []string{"line 1, column ", "not a JSON object: the object ends before the line does"}},
		{name: "syntax error", file: "x.jsonl", lines: []string{`{"organization_id" "o"}`}, want: []string{"line 1, column 20: not a JSON object: "}},
		{name: "data after the object", file: "x.jsonl", lines: []string{goodJSON + ` {}`}, want: []string{fmt.Sprintf("line 1, column %d: data after the object", len(goodJSON)+2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sqliteStore(t)
			r := tasks(t, s.vars, "", "load", writeFile(t, tt.file, tt.lines...))
			assert.Equal(t, exitInvalid, r.code, r.stderr)
			for _, want := range tt.want {
				assert.Contains(t, r.stderr, want)
			}
			assert.NoFileExists(t, s.vars["TASKS_DB"], "the store was opened")
		})
	}
}

// lineByLine hands out one line per Read, and calls cancel when asked for
// the line at index cancelAt: the load has then written every batch
// before it.
type lineByLine struct {
	lines    []string
	next     int
	cancelAt int
	cancel   context.CancelFunc
}

func (r *lineByLine) Read(p []byte) (int, error) {
	if r.next == r.cancelAt {
		r.cancel()
	}
	if r.next == len(r.lines) {
		return 0, os.ErrClosed
	}
	n := copy(p, r.lines[r.next]+"\n") // the lines are far shorter than the reader's buffer
	r.next++
	return n, nil
}

// An interrupt (here the context's end, which SIGINT causes) stops a load
// between batches: the batches before stay, and the command exits 3.
func TestLoadInterruptedBetweenBatches(t *testing.T) {
	s := sqliteStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	lines := exportLines(t, exportCSV)
	// The header, then two batches of two rows, then the interrupt.
	in := &lineByLine{lines: lines, cancelAt: 5, cancel: cancel}
	r := tasksWith(ctx, s.vars, in, "load", "-format", "csv", "-batch", "2", "-")
	assert.Equal(t, exitRetry, r.code, r.stderr)
	assert.Contains(t, r.stderr, "interrupted before writing lines 6 to 7: context canceled")
	assert.Contains(t, r.stderr, "the 4 action vectors in 2 batches before it were")
	assert.Equal(t, sortedRows(exportRows(t)[:4]), s.actionVectors(t))
}

// The progress line goes to a terminal only: a character device, not a
// file, a pipe or a buffer.
func TestProgressOnlyOnATerminal(t *testing.T) {
	file, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	require.NoError(t, err)
	defer file.Close()
	reader, writer, err := os.Pipe()
	require.NoError(t, err)
	defer reader.Close()
	defer writer.Close()
	assert.False(t, isTerminal(file))
	assert.False(t, isTerminal(writer))
	assert.False(t, isTerminal(&strings.Builder{}))
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		defer null.Close()
		assert.True(t, isTerminal(null), "a character device, as a terminal is")
	}

	s := sqliteStore(t)
	code := run(t.Context(), []string{"load", "-batch", "2", exportCSV}, strings.NewReader(""), &strings.Builder{}, file, env(s.vars))
	require.Equal(t, exitOK, code)
	written, err := os.ReadFile(file.Name())
	require.NoError(t, err)
	assert.Empty(t, string(written), "no progress line in a file")

	var line strings.Builder
	p := &progress{w: &line}
	p.show(loaded{rows: 2, batches: 1})
	p.show(loaded{rows: 4, batches: 2})
	p.end()
	assert.Equal(t, "\rloaded 2 action vectors in 1 batch\rloaded 4 action vectors in 2 batches\n", line.String())
}
