package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/actionvector/tasks/store"
	"github.com/actionvector/tasks/taskcreate"
)

// column is a column of the action-vector table (SPEC section 6), as load
// reads it.
type column struct {
	name     string // the table's, and the CSV header's and JSON key's
	field    string // its name in the paths of store.ValidateActionVectors
	required bool   // NOT NULL: in every CSV header, never empty or null
	json     jsonKind
	set      func(v *taskcreate.ActionVector, text string) error
}

// jsonKind is the JSON type of a column's values in JSON lines.
type jsonKind int

const (
	jsonString jsonKind = iota
	jsonNumber
	jsonAny // decision_vector_snapshot: the value itself is the JSON
)

var columns = []*column{
	{name: "organization_id", field: "organizationId", required: true,
		set: func(v *taskcreate.ActionVector, s string) error { v.OrganizationID = s; return nil }},
	{name: "variant_id", field: "variantId", required: true,
		set: func(v *taskcreate.ActionVector, s string) error { v.VariantID = s; return nil }},
	{name: "shop_id", field: "shopId", required: true,
		set: func(v *taskcreate.ActionVector, s string) error { v.ShopID = s; return nil }},
	{name: "snapshot_date", field: "snapshotDate", required: true, set: func(v *taskcreate.ActionVector, s string) error {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return fmt.Errorf("must be a date, YYYY-MM-DD, got %q", s)
		}
		v.SnapshotDate = d
		return nil
	}},
	{name: "domain", field: "domain", required: true,
		set: func(v *taskcreate.ActionVector, s string) error { v.Domain = taskcreate.Domain(s); return nil }},
	{name: "recommended_qty", field: "recommendedQty", json: jsonNumber, set: func(v *taskcreate.ActionVector, s string) error {
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("must be an integer, got %q", s)
		}
		v.RecommendedQty = &n
		return nil
	}},
	{name: "recommended_discount_pct", field: "recommendedDiscountPct", json: jsonNumber,
		set: func(v *taskcreate.ActionVector, s string) (err error) {
			v.RecommendedDiscountPct, err = parseNumber(s)
			return err
		}},
	{name: "recommendation_confidence", field: "confidence", json: jsonNumber,
		set: func(v *taskcreate.ActionVector, s string) (err error) { v.Confidence, err = parseNumber(s); return err }},
	{name: "decision_vector_snapshot", field: "snapshot", required: true, json: jsonAny,
		set: func(v *taskcreate.ActionVector, s string) error { v.Snapshot = json.RawMessage(s); return nil }},
}

func parseNumber(s string) (*float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("must be a number, got %q", s)
	}
	return &f, nil
}

func columnNames() []string {
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.name
	}
	return names
}

// findColumn returns the column named key, or, byField, the column whose
// field is key; nil when there is none.
func findColumn(key string, byField bool) *column {
	for _, c := range columns {
		if !byField && c.name == key || byField && c.field == key {
			return c
		}
	}
	return nil
}

// recordReader reads action vectors one at a time.
type recordReader interface {
	// next returns the next action vector and the line it is on, io.EOF
	// after the last one, or an invalidInput error naming the line and the
	// column of what is wrong with it.
	next() (taskcreate.ActionVector, int, error)
}

func newRecordReader(format string, in io.Reader) (recordReader, error) {
	if format == "csv" {
		return newCSVReader(in)
	}
	return &jsonLinesReader{r: bufio.NewReaderSize(in, 64<<10)}, nil
}

// problem is one thing wrong with a record, where it is.
type problem struct {
	line, column int // column 0: unknown, as for a missing key
	name         string
	message      string
}

func (p problem) String() string {
	at := fmt.Sprintf("line %d", p.line)
	if p.column > 0 {
		at += fmt.Sprintf(", column %d", p.column)
	}
	if p.name != "" {
		at += " (" + p.name + ")"
	}
	return at + ": " + p.message
}

// badRecord lists every problem of one record.
type badRecord []problem

func (b badRecord) Error() string {
	s := make([]string, len(b))
	for i, p := range b {
		s[i] = p.String()
	}
	return strings.Join(s, "; ")
}

// checkRecord adds to problems those store.ValidateActionVectors finds in
// v, at line and at the column where says, and returns them as an error,
// nil when there is none. A column that already has a problem gets no
// second one.
func checkRecord(v taskcreate.ActionVector, line int, problems []problem, where func(*column) int) error {
	var invalid *taskcreate.ValidationError
	if errors.As(store.ValidateActionVectors([]taskcreate.ActionVector{v}), &invalid) {
	fields:
		for _, f := range invalid.Fields {
			c := findColumn(strings.TrimPrefix(f.Field, "[0]."), true)
			name := f.Field
			if c != nil {
				name = c.name
			}
			for _, p := range problems {
				if p.name == name {
					continue fields
				}
			}
			col := 0
			if c != nil {
				col = where(c)
			}
			problems = append(problems, problem{line: line, column: col, name: name, message: f.Message})
		}
	}
	if len(problems) == 0 {
		return nil
	}
	// In the order of the line; a missing value, of no column, last.
	slices.SortStableFunc(problems, func(a, b problem) int {
		return cmp.Compare(cmp.Or(a.column, math.MaxInt), cmp.Or(b.column, math.MaxInt))
	})
	return invalidInput{badRecord(problems)}
}

// csvReader reads CSV records under a header of column names.
type csvReader struct {
	r       *csv.Reader
	columns []*column // of each field
	index   map[*column]int
}

func newCSVReader(in io.Reader) (*csvReader, error) {
	r := csv.NewReader(in)
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, invalidf("line 1: the input is empty; want a header naming the columns: %s", strings.Join(columnNames(), ","))
	}
	if err != nil {
		return nil, csvError(err)
	}
	c := &csvReader{r: r, columns: make([]*column, len(header)), index: map[*column]int{}}
	for i, name := range header {
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff") // a byte order mark, as spreadsheets write
		}
		line, col := r.FieldPos(i)
		found := findColumn(name, false)
		if found == nil {
			return nil, invalidf("line %d, column %d: unknown column %q; the columns are %s", line, col, name, strings.Join(columnNames(), ", "))
		}
		if first, ok := c.index[found]; ok {
			_, firstCol := r.FieldPos(first)
			return nil, invalidf("line %d, column %d: column %q again, first at column %d", line, col, name, firstCol)
		}
		c.columns[i], c.index[found] = found, i
	}
	for _, col := range columns {
		if _, ok := c.index[col]; col.required && !ok {
			return nil, invalidf("line 1: the header has no column %s, which is required", col.name)
		}
	}
	r.FieldsPerRecord = len(header)
	return c, nil
}

func (c *csvReader) next() (taskcreate.ActionVector, int, error) {
	record, err := c.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return taskcreate.ActionVector{}, 0, io.EOF
		}
		return taskcreate.ActionVector{}, 0, csvError(err)
	}
	var v taskcreate.ActionVector
	var problems []problem
	line, _ := c.r.FieldPos(0)
	for i, text := range record {
		if text == "" {
			continue // NULL, or a missing value checkRecord reports
		}
		if err := c.columns[i].set(&v, text); err != nil {
			_, col := c.r.FieldPos(i)
			problems = append(problems, problem{line: line, column: col, name: c.columns[i].name, message: err.Error()})
		}
	}
	return v, line, checkRecord(v, line, problems, func(col *column) int {
		_, at := c.r.FieldPos(c.index[col])
		return at
	})
}

// csvError is a CSV syntax error, or a record with the wrong number of
// fields, where it is.
func csvError(err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err // reading failed
	}
	if errors.Is(pe.Err, csv.ErrFieldCount) {
		return invalidf("line %d: %v: every record has as many fields as the header", pe.StartLine, pe.Err)
	}
	return invalidf("line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
}

// jsonLinesReader reads one JSON object per line; blank lines are skipped.
type jsonLinesReader struct {
	r    *bufio.Reader
	line int
}

func (j *jsonLinesReader) next() (taskcreate.ActionVector, int, error) {
	for {
		text, err := j.r.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return taskcreate.ActionVector{}, 0, err
		}
		if len(text) == 0 {
			return taskcreate.ActionVector{}, 0, io.EOF
		}
		j.line++
		text = bytes.TrimRight(text, "\r\n")
		if j.line == 1 {
			text = bytes.TrimPrefix(text, []byte("\ufeff"))
		}
		if len(bytes.TrimSpace(text)) > 0 {
			v, err := parseJSONLine(text, j.line)
			return v, j.line, err
		}
	}
}

// parseJSONLine reads the object on line n, text.
func parseJSONLine(text []byte, n int) (taskcreate.ActionVector, error) {
	var v taskcreate.ActionVector
	dec := json.NewDecoder(bytes.NewReader(text))
	syntax := func(err error) error {
		col := int(dec.InputOffset()) + 1
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// The offset is that of the byte that is wrong, or of the
			// blanks before it.
			col = skip(text, max(int(se.Offset)-1, 0), " \t") + 1
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			err = errors.New("the object ends before the line does")
		}
		return invalidInput{badRecord{{line: n, column: max(col, 1), message: "not a JSON object: " + err.Error()}}}
	}
	if tok, err := dec.Token(); err != nil {
		return v, syntax(err)
	} else if tok != json.Delim('{') {
		return v, invalidInput{badRecord{{line: n, column: skip(text, 0, " \t") + 1, message: "not a JSON object"}}}
	}
	var problems []problem
	at := map[*column]int{} // the column of each key's value
	for dec.More() {
		keyAt := skip(text, int(dec.InputOffset()), " \t,") + 1
		tok, err := dec.Token()
		if err != nil {
			return v, syntax(err)
		}
		key, _ := tok.(string) // a key is a string, or Token fails
		valueAt := skip(text, int(dec.InputOffset()), " \t:") + 1
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return v, syntax(err)
		}
		c := findColumn(key, false)
		switch {
		case c == nil:
			problems = append(problems, problem{line: n, column: keyAt, name: key, message: "unknown column; the columns are " + strings.Join(columnNames(), ", ")})
			continue
		case at[c] > 0:
			problems = append(problems, problem{line: n, column: keyAt, name: key, message: fmt.Sprintf("repeated; first at column %d", at[c])})
			continue
		}
		at[c] = valueAt
		if msg := setJSON(&v, c, raw); msg != "" {
			problems = append(problems, problem{line: n, column: valueAt, name: c.name, message: msg})
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return v, syntax(err)
	}
	end := int(dec.InputOffset())
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return v, invalidInput{badRecord{{line: n, column: skip(text, end, " \t") + 1, message: "data after the object"}}}
	}
	return v, checkRecord(v, n, problems, func(c *column) int { return at[c] })
}

// setJSON sets the column c of v from its JSON value raw, and returns what
// is wrong with it, or "".
func setJSON(v *taskcreate.ActionVector, c *column, raw json.RawMessage) string {
	if string(raw) == "null" {
		return "" // NULL, or a missing value checkRecord reports
	}
	if !utf8.Valid(raw) {
		return "must be valid UTF-8"
	}
	text := string(raw)
	switch c.json {
	case jsonString:
		if raw[0] != '"' {
			return "must be a string"
		}
		_ = json.Unmarshal(raw, &text) // a valid string: Decode read it
		// Unmarshal turns a \u escape of a lone surrogate into U+FFFD:
		// two different ids would become one.
		if strings.ContainsRune(text, utf8.RuneError) && !strings.ContainsRune(string(raw), utf8.RuneError) &&
			!strings.Contains(strings.ToLower(string(raw)), `\ufffd`) {
			return "must be valid UTF-8 (no \\u escape of a lone surrogate)"
		}
	case jsonNumber:
		if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
			return "must be a number"
		}
	}
	if err := c.set(v, text); err != nil {
		return err.Error()
	}
	return ""
}

// skip returns the offset of the first byte of text at or after from that
// is not one of chars.
func skip(text []byte, from int, chars string) int {
	for from < len(text) && strings.IndexByte(chars, text[from]) >= 0 {
		from++
	}
	return from
}
