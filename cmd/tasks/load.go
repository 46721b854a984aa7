package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/actionvector/tasks/taskcreate"
)

var loadHelp = help{synopsis: "load [flags] FILE|-", text: `Loads action vectors into the store, upserting on the primary key, from
FILE or standard input (-):
  CSV: a header naming the action-vector table's columns, then one row each:
    ` + strings.Join(columnNames()[:4], ", ") + `,
    ` + strings.Join(columnNames()[4:7], ", ") + `,
    ` + strings.Join(columnNames()[7:], ", ") + `.
    snapshot_date is YYYY-MM-DD, decision_vector_snapshot JSON text; the
    columns that may be NULL may be left out, and an empty field is NULL.
  JSON lines: one object per line with those names as keys (null is NULL,
    decision_vector_snapshot any JSON value).
The format is the file's extension (.csv, .jsonl, .ndjson), or -format.
Each batch of -batch rows is one transaction. The first bad record stops the
load with an error naming its line and column: nothing of its batch is
written, and the batches before it stay written (loading the file again
after fixing it is safe). An interrupt stops it between batches the same way.
On a terminal, the progress is shown on standard error.`}

// defaultBatch is load's -batch: a transaction per 5,000 rows keeps the
// write lock for tens of milliseconds on SQLite.
const defaultBatch = 5000

// load is the load subcommand.
func load(ctx context.Context, p process, args []string) error {
	flags := newFlagSet("load")
	config := addStoreFlags(flags)
	format := flags.String("format", "", "`format` of the input, csv or jsonl (JSON lines); default: the file's extension")
	batch := flags.Int("batch", defaultBatch, "`rows` per transaction")
	rest, err := parseStoreFlags(flags, args, p, loadHelp, config, 1)
	switch {
	case err != nil:
		return err
	case len(rest) == 0:
		return invalidf("no input: give a FILE, or - and -format for standard input")
	case *batch < 1:
		return invalidf("-batch: %d is below 1", *batch)
	}
	in, err := openInput(rest, p.stdin)
	if err != nil {
		return err
	}
	defer in.Close()
	kind, err := inputFormat(*format, rest[0])
	if err != nil {
		return err
	}
	records, err := newRecordReader(kind, in)
	if err != nil {
		return err
	}
	s := &deferredStore{config: *config}
	defer s.Close()
	progress := newProgress(p.stderr)
	done, err := loadRecords(ctx, records, s, *batch, progress.show)
	progress.end()
	if err != nil {
		return err
	}
	fmt.Fprintf(p.stdout, "loaded %s\n", done)
	return nil
}

// inputFormat returns "csv" or "jsonl": the -format given, else the one of
// the file's extension.
func inputFormat(format, file string) (string, error) {
	if format != "" {
		if format != "csv" && format != "jsonl" {
			return "", invalidf("-format: %q is neither csv nor jsonl", format)
		}
		return format, nil
	}
	switch strings.ToLower(filepath.Ext(file)) {
	case ".csv":
		return "csv", nil
	case ".jsonl", ".ndjson":
		return "jsonl", nil
	}
	if file == "-" {
		return "", invalidf("standard input has no extension: give -format csv or -format jsonl")
	}
	return "", invalidf("%s: cannot tell the format from the extension (.csv, .jsonl, .ndjson): give -format csv or -format jsonl", file)
}

// loaded counts what a load wrote.
type loaded struct{ rows, batches int }

func (l loaded) String() string {
	s := fmt.Sprintf("%d action vectors in %d batch", l.rows, l.batches)
	if l.batches != 1 {
		s += "es"
	}
	return s
}

// actionVectorWriter is where load writes: the store.
type actionVectorWriter interface {
	PutActionVectors(ctx context.Context, rows []taskcreate.ActionVector) error
}

// loadRecords writes the records of src to dst, size rows per call, and
// calls shown after each batch written. It stops at the first bad record
// or failed batch, before writing anything of that batch, and when ctx
// ends, between batches.
func loadRecords(ctx context.Context, src recordReader, dst actionVectorWriter, size int, shown func(loaded)) (loaded, error) {
	var done loaded
	rows := make([]taskcreate.ActionVector, 0, size)
	first, last := 0, 0 // the lines of the batch
	stopped := func(err error) error {
		if done.batches == 0 {
			return fmt.Errorf("%w (nothing was written)", err)
		}
		return fmt.Errorf("%w (nothing of its batch was written; the %s before it were)", err, done)
	}
	flush := func() error {
		if err := ctx.Err(); err != nil {
			return stopped(fmt.Errorf("interrupted before writing lines %d to %d: %w", first, last, err))
		}
		if err := dst.PutActionVectors(ctx, rows); err != nil {
			return stopped(fmt.Errorf("writing lines %d to %d: %w", first, last, err))
		}
		done.rows += len(rows)
		done.batches++
		rows = rows[:0]
		shown(done)
		return nil
	}
	for {
		v, line, err := src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return done, stopped(err)
		}
		if len(rows) == 0 {
			first = line
		}
		rows, last = append(rows, v), line
		if len(rows) == size {
			if err := flush(); err != nil {
				return done, err
			}
		}
	}
	if len(rows) > 0 {
		return done, flush()
	}
	return done, nil
}

// progress shows a load's progress on a terminal, on one line it rewrites.
type progress struct {
	w     io.Writer // nil: not a terminal
	shown bool
}

// newProgress returns the progress line of w, which shows nothing unless w
// is a terminal: a log or a pipe gets no carriage returns.
func newProgress(w io.Writer) *progress {
	if !isTerminal(w) {
		return &progress{}
	}
	return &progress{w: w}
}

func (p *progress) show(done loaded) {
	if p.w != nil {
		fmt.Fprintf(p.w, "\rloaded %s", done)
		p.shown = true
	}
}

// end ends the line, if any was shown.
func (p *progress) end() {
	if p.shown {
		fmt.Fprintln(p.w)
	}
}

// isTerminal reports whether w is a character device, as a terminal is.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
