package sqldb

import (
	"context"
	"database/sql"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Statement is what a store knows of a statement and the driver does not,
// for its span: OpenTelemetry's database attributes.
type Statement struct {
	System     string // db.system.name: "postgresql" or "sqlite"
	Operation  string // db.operation.name: the SQL command, such as "INSERT"
	Collection string // db.collection.name: the table it writes or reads first
	BatchSize  int    // db.operation.batch.size: candidates or rows it handles; 0: none said
}

// Start starts the span of st, a child of the span in ctx, from that span's
// provider: a store records spans when its caller does (store.Service
// with a tracer provider), and costs nothing otherwise.
func (st Statement) Start(ctx context.Context) (context.Context, trace.Span) {
	tracer := trace.SpanFromContext(ctx).TracerProvider().Tracer("github.com/actionvector/tasks/store/" + st.System)
	attrs := []attribute.KeyValue{
		attribute.String("db.system.name", st.System),
		attribute.String("db.operation.name", st.Operation),
		attribute.String("db.collection.name", st.Collection),
	}
	if st.BatchSize > 0 {
		attrs = append(attrs, attribute.Int("db.operation.batch.size", st.BatchSize))
	}
	return tracer.Start(ctx, st.Operation+" "+st.Collection, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
}

// End ends span, recording err if there is one.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "statement failed")
	}
	span.End()
}

// Traced returns q, whose every statement gets a span described by st.
func Traced(q Querier, st Statement) Querier { return traced{q, st} }

type traced struct {
	q  Querier
	st Statement
}

func (t traced) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx, span := t.st.Start(ctx)
	res, err := t.q.ExecContext(ctx, query, args...)
	End(span, err)
	return res, err
}

// QueryContext's span covers the statement until its first rows arrive.
func (t traced) QueryContext(ctx context.Context, query string, args ...any) (Rows, error) {
	ctx, span := t.st.Start(ctx)
	rows, err := t.q.QueryContext(ctx, query, args...)
	End(span, err)
	return rows, err
}

// QueryRowContext's span covers the statement until its row is read.
func (t traced) QueryRowContext(ctx context.Context, query string, args ...any) Row {
	ctx, span := t.st.Start(ctx)
	return tracedRow{t.q.QueryRowContext(ctx, query, args...), span}
}

type tracedRow struct {
	row  Row
	span trace.Span
}

func (r tracedRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		End(r.span, nil) // an answer, not a failure
	} else {
		End(r.span, err)
	}
	return err
}
