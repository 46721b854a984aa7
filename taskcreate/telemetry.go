package taskcreate

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// InstrumentationName names the tracer and the meter of this package.
const InstrumentationName = "github.com/actionvector/tasks/taskcreate"

// The attributes this package records. None holds an identifier of the
// perimeter: a span or a metric point never names a variant or a shop.
const (
	AttrOrganizationID = attribute.Key("actionvector.organization.id") // spans
	AttrWorkflowRunID  = attribute.Key("actionvector.workflow_run.id") // spans
	AttrOperation      = attribute.Key("actionvector.operation")       // "create" or "sweep"
	AttrCandidates     = attribute.Key("actionvector.candidates")      // spans: unique pairs x unique domains
	AttrDryRun         = attribute.Key("actionvector.dry_run")         // spans and metrics
	AttrAttempts       = attribute.Key("actionvector.attempts")        // spans: calls of the store, retries included
	AttrErrorCode      = attribute.Key("actionvector.error_code")      // spans: the code of an invalid request
	AttrOutcome        = attribute.Key("actionvector.outcome")         // candidates: created, updated, suppressed, skipped, unmatched
	AttrResult         = attribute.Key("actionvector.result")          // call duration: "success" or the error's type
	AttrDismissal      = attribute.Key("actionvector.dismissal")       // dismissed tasks: "retired" or "swept"
	attrErrorType      = attribute.Key("error.type")                   // OpenTelemetry's semantic convention
	attrCountPrefix    = "actionvector.tasks."                         // spans: one count per outcome, and dismissed
)

// WithTracerProvider sets where the spans of CreateTasks and SweepRun go;
// the stores' statement spans follow, through the context.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(s *Service) { s.tracerProvider = tp }
}

// WithMeterProvider sets where the metrics of CreateTasks and SweepRun go.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(s *Service) { s.meterProvider = mp }
}

// telemetry is what a Service records with.
type telemetry struct {
	tracer     trace.Tracer
	duration   metric.Float64Histogram
	candidates metric.Int64Counter
	dismissed  metric.Int64Counter
	retries    metric.Int64Counter
}

// durationBuckets spread from a small call (milliseconds) to a perimeter of
// a million pairs (minutes), in seconds.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

func newTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) telemetry {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter(InstrumentationName)
	t := telemetry{tracer: tp.Tracer(InstrumentationName)}
	// The instruments of a meter fail only on invalid names; a failed one
	// is a no-op instrument, which records nothing, and the error goes to
	// otel.Handle.
	handle := func(err error) {
		if err != nil {
			otel.Handle(err)
		}
	}
	var err error
	t.duration, err = meter.Float64Histogram("actionvector.tasks.call.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of CreateTasks and SweepRun calls, validation and retries included."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	handle(err)
	t.candidates, err = meter.Int64Counter("actionvector.tasks.candidates", metric.WithUnit("{candidate}"),
		metric.WithDescription("Candidates of successful CreateTasks calls, by outcome."))
	handle(err)
	t.dismissed, err = meter.Int64Counter("actionvector.tasks.dismissed", metric.WithUnit("{task}"),
		metric.WithDescription("Tasks dismissed by successful calls: retired as stale by CreateTasks, or swept by SweepRun."))
	handle(err)
	t.retries, err = meter.Int64Counter("actionvector.tasks.retries", metric.WithUnit("{retry}"),
		metric.WithDescription("Store calls repeated after a transient error."))
	handle(err)
	return t
}

// call is the span and the metric attributes of one CreateTasks or
// SweepRun call.
type call struct {
	span      trace.Span
	start     time.Time
	operation attribute.KeyValue
	dryRun    attribute.KeyValue
}

func (t telemetry) start(ctx context.Context, name, operation, organizationID, workflowRunID string, dryRun bool) (context.Context, *call) {
	c := &call{start: time.Now(), operation: AttrOperation.String(operation), dryRun: AttrDryRun.Bool(dryRun)}
	ctx, c.span = t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(
		AttrOrganizationID.String(boundedID(organizationID)), AttrWorkflowRunID.String(boundedID(workflowRunID)), c.operation, c.dryRun))
	return ctx, c
}

// boundedID returns an id as a span may carry it: it is recorded before
// validation, so it may be anything the caller sent.
func boundedID(s string) string {
	if len(s) > MaxIDBytes {
		s = s[:MaxIDBytes]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// end records the call's outcome: its counts on success, its error's type
// otherwise, and its duration.
func (t telemetry) end(ctx context.Context, c *call, attempts int, counts map[string]int, err error) {
	c.span.SetAttributes(AttrAttempts.Int(attempts))
	if attempts > 1 {
		t.retries.Add(ctx, int64(attempts-1), metric.WithAttributes(c.operation))
	}
	result := "success"
	if err != nil {
		result = ErrorType(err)
		c.span.SetAttributes(attrErrorType.String(result))
		var invalid *ValidationError
		if errors.As(err, &invalid) {
			c.span.SetAttributes(AttrErrorCode.String(result))
		}
		c.span.RecordError(err)
		c.span.SetStatus(codes.Error, result)
	} else {
		for name, n := range counts {
			c.span.SetAttributes(attribute.Int(attrCountPrefix+name, n))
		}
	}
	attrs := []attribute.KeyValue{c.operation, c.dryRun, AttrResult.String(result)}
	if err != nil {
		attrs = append(attrs, attrErrorType.String(result))
	}
	t.duration.Record(ctx, time.Since(c.start).Seconds(), metric.WithAttributes(attrs...))
	c.span.End()
}

// ErrorType names the kind of err as the error.type attribute says it: the
// code of an invalid request, OUTCOME_UNKNOWN, RETIRE_BUDGET_EXCEEDED,
// REQUEST_CANCELLED, TIMEOUT, STORE_BUSY (a transient error that outlasted
// every retry) or STORE_ERROR.
func ErrorType(err error) string {
	var invalid *ValidationError
	switch {
	case errors.As(err, &invalid):
		return invalid.Code()
	case errors.Is(err, ErrInvalidRequest):
		return CodeValidationError
	case errors.Is(err, ErrOutcomeUnknown):
		return "OUTCOME_UNKNOWN"
	case errors.Is(err, ErrRetireBudgetExceeded):
		return "RETIRE_BUDGET_EXCEEDED"
	case errors.Is(err, context.DeadlineExceeded):
		return "TIMEOUT"
	case errors.Is(err, context.Canceled):
		return "REQUEST_CANCELLED"
	case errors.Is(err, ErrTransient):
		return "STORE_BUSY"
	}
	return "STORE_ERROR"
}

// countCandidates adds a successful call's candidates by outcome, and the
// tasks it retired.
func (t telemetry) countCandidates(ctx context.Context, c *call, res Result) {
	for outcome, n := range map[OutcomeKind]int{OutcomeCreated: res.Created, OutcomeUpdated: res.Updated,
		OutcomeSuppressed: res.Suppressed, OutcomeSkipped: res.Skipped, OutcomeUnmatched: res.Unmatched} {
		if n > 0 {
			t.candidates.Add(ctx, int64(n), metric.WithAttributes(AttrOutcome.String(string(outcome)), c.dryRun))
		}
	}
	if res.Retired > 0 && !c.dryRun.Value.AsBool() {
		t.dismissed.Add(ctx, int64(res.Retired), metric.WithAttributes(AttrDismissal.String("retired")))
	}
}
