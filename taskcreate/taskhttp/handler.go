package taskhttp

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/actionvector/tasks/taskcreate"
)

// DefaultMaxBodyBytes is the largest request body accepted unless
// Options.MaxBodyBytes says otherwise: room for a perimeter of about
// 650,000 pairs of UUID-shaped ids (about 100 bytes of JSON each). Raise it
// to accept perimeters up to taskcreate.DefaultMaxPerimeter.
const DefaultMaxBodyBytes = 64 << 20

// DefaultMaxInFlightBytes bounds the request bytes a handler holds at once
// unless Options.MaxInFlightBytes says otherwise. A call of a million pairs
// (56 MB) takes 10 to 16 times its body in memory on PostgreSQL, about 5 on
// SQLite, so 192 MiB of bodies (three such calls, or many small ones) keep
// a server under 3 GiB, on a machine of 24 GiB shared with its database.
const DefaultMaxInFlightBytes = 192 << 20

// Options configures the handler NewHandler returns.
type Options struct {
	// Token is the bearer token callers must present. Required: read it
	// from your own secret store or environment variable.
	Token string
	// MaxBodyBytes is the largest request body accepted (0: DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Timeout bounds how long one call may spend creating tasks, after the
	// body is read (0: only the request's own context bounds it).
	Timeout time.Duration
	// MaxConcurrentCalls bounds the calls the handler serves at once (0: no
	// bound). A request beyond it is answered 429 at once, before its body is
	// read, instead of queueing for the store's connections. A call holds its
	// slot from the checks of method, token and content type until
	// CreateTasks returns, reading the body included: see http.Server's
	// ReadTimeout.
	MaxConcurrentCalls int
	// MaxInFlightBytes bounds the bytes of the requests the handler holds
	// at once, counted from admission until the response is written (0:
	// DefaultMaxInFlightBytes, or MaxBodyBytes if larger; math.MaxInt64:
	// no bound). Memory grows with the bytes of the calls, not their
	// number: a request that does not fit is answered 429 at once, before
	// its body is read when its Content-Length says so, else as soon as
	// the bytes read do not fit. It may not be below MaxBodyBytes, or the
	// largest body accepted could never be admitted.
	MaxInFlightBytes int64
	// Logger receives one line per request (nil: no logging). The token and
	// the Authorization header are never logged.
	Logger *slog.Logger
}

// NewHandler returns the handler of the task-create endpoint on svc. It
// serves whatever path it is mounted on. It fails when svc is nil or an
// option is invalid: an empty token would let anyone in, so it is an error,
// not a default.
func NewHandler(svc *taskcreate.Service, opts Options) (http.Handler, error) {
	return newHandler("NewHandler", svc, opts, createTasks)
}

// NewSweepHandler returns the handler of the sweep endpoint on svc
// (SweepPath): Service.SweepRun behind the same token, limits and envelope
// as NewHandler's.
func NewSweepHandler(svc *taskcreate.Service, opts Options) (http.Handler, error) {
	return newHandler("NewSweepHandler", svc, opts, sweepRun)
}

func newHandler(name string, svc *taskcreate.Service, opts Options, op operation) (http.Handler, error) {
	switch {
	case svc == nil:
		return nil, fmt.Errorf("taskhttp: %s: nil *taskcreate.Service", name)
	case strings.TrimSpace(opts.Token) == "":
		return nil, fmt.Errorf("taskhttp: %s: Options.Token is empty; refusing to serve without authentication", name)
	case strings.IndexFunc(opts.Token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		// A header cannot carry such a token, so no caller could ever match it;
		// usually a stray newline from the file the token was read from.
		return nil, fmt.Errorf("taskhttp: %s: Options.Token contains spaces or control characters", name)
	case opts.MaxBodyBytes < 0:
		return nil, fmt.Errorf("taskhttp: %s: Options.MaxBodyBytes is negative (%d)", name, opts.MaxBodyBytes)
	case opts.Timeout < 0:
		return nil, fmt.Errorf("taskhttp: %s: Options.Timeout is negative (%v)", name, opts.Timeout)
	case opts.MaxConcurrentCalls < 0:
		return nil, fmt.Errorf("taskhttp: %s: Options.MaxConcurrentCalls is negative (%d)", name, opts.MaxConcurrentCalls)
	case opts.MaxInFlightBytes < 0:
		return nil, fmt.Errorf("taskhttp: %s: Options.MaxInFlightBytes is negative (%d)", name, opts.MaxInFlightBytes)
	}
	h := &handler{
		svc:       svc,
		op:        op,
		tokenHash: sha256.Sum256([]byte(opts.Token)),
		maxBody:   opts.MaxBodyBytes,
		timeout:   opts.Timeout,
		inFlight:  &inFlight{max: opts.MaxInFlightBytes},
		logger:    opts.Logger,
	}
	if h.maxBody == 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	switch {
	case h.inFlight.max == 0:
		h.inFlight.max = max(DefaultMaxInFlightBytes, h.maxBody)
	case h.inFlight.max < h.maxBody:
		return nil, fmt.Errorf("taskhttp: %s: Options.MaxInFlightBytes (%d) is below the largest body accepted (%d): such a body could never be admitted",
			name, h.inFlight.max, h.maxBody)
	}
	if opts.MaxConcurrentCalls > 0 {
		h.slots = make(chan struct{}, opts.MaxConcurrentCalls)
	}
	return h, nil
}

// operation is what an endpoint does with a request that passed the
// checks: decode the body, call the service and, on success, write the
// answer. It returns, even on error, what the log line should say of the
// request and its result.
type operation struct {
	name string // the log line's message
	run  func(ctx context.Context, svc *taskcreate.Service, body io.Reader, w http.ResponseWriter) ([]slog.Attr, error)
}

type handler struct {
	svc       *taskcreate.Service
	op        operation
	tokenHash [sha256.Size]byte // compared instead of the token, so the comparison takes the same time whatever its length
	maxBody   int64
	timeout   time.Duration
	slots     chan struct{} // one element per call being served; nil: no bound
	inFlight  *inFlight     // the bytes of the requests being served
	logger    *slog.Logger
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body := &admittedBody{budget: h.inFlight}
	// Deferred, so that a panic gives the bytes back too; and the response
	// is written before: building it is the request's last use of memory.
	defer body.release()
	attrs, err := h.serve(w, r, body)
	status, code := http.StatusOK, ""
	if err != nil {
		body.closeIfUnread(w, r)
		status, code = writeError(w, err)
	}
	annotateSpan(trace.SpanFromContext(r.Context()), status, code)
	if h.logger != nil {
		h.log(r, attrs, err, status, code, time.Since(start))
	}
}

// annotateSpan tells the request's span, which the router or a middleware
// started, what the handler answered: the status, and the errorCode of an
// error. A server's span is an error only for a 5xx, as OpenTelemetry's
// conventions for HTTP have it.
func annotateSpan(span trace.Span, status int, code string) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	if code == "" {
		return
	}
	span.SetAttributes(taskcreate.AttrErrorCode.String(code))
	if status >= http.StatusInternalServerError {
		span.SetAttributes(attribute.String("error.type", code))
		span.SetStatus(codes.Error, code)
	}
}

// serve checks the request, admits it into body and runs the operation on
// it.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, body *admittedBody) ([]slog.Attr, error) {
	if r.Method != http.MethodPost {
		return nil, ErrMethodNotAllowed
	}
	if !bearerMatches(r.Header, h.tokenHash) {
		return nil, ErrUnauthorized
	}
	if err := CheckContentType(r.Header); err != nil {
		return nil, err
	}
	if r.ContentLength > h.maxBody {
		// Known too large from the header: answer before reading any of it.
		return nil, &http.MaxBytesError{Limit: h.maxBody}
	}
	if h.slots != nil {
		select {
		case h.slots <- struct{}{}:
			defer func() { <-h.slots }()
		default:
			return nil, ErrTooManyRequests
		}
	}
	if err := body.admit(r); err != nil {
		return nil, err
	}
	ctx := r.Context()
	if h.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.timeout)
		defer cancel()
	}
	body.r = http.MaxBytesReader(w, r.Body, h.maxBody)
	return h.op.run(ctx, h.svc, body, w)
}

// createTasks is the operation of the task-create endpoint.
var createTasks = operation{name: "task-create", run: func(ctx context.Context, svc *taskcreate.Service, body io.Reader, w http.ResponseWriter) ([]slog.Attr, error) {
	limits := svc.Limits()
	req, err := decodeRequest(body, &limits)
	attrs := idAttrs(req.OrganizationID, req.WorkflowRunID)
	if req.Perimeter != nil {
		attrs = append(attrs, slog.Int("pairs", len(req.Perimeter)))
	}
	if err != nil {
		return attrs, err
	}
	res, err := svc.CreateTasks(ctx, req)
	if err != nil {
		return attrs, err
	}
	WriteResult(w, req, res)
	attrs = append(attrs, slog.Bool("dryRun", req.DryRun), slog.Int("created", res.Created), slog.Int("updated", res.Updated),
		slog.Int("suppressed", res.Suppressed), slog.Int("skipped", res.Skipped), slog.Int("unmatched", res.Unmatched))
	if req.RetireStale {
		attrs = append(attrs, slog.Int("retired", res.Retired))
	}
	return attrs, nil
}}

// sweepRun is the operation of the sweep endpoint.
var sweepRun = operation{name: "task-sweep", run: func(ctx context.Context, svc *taskcreate.Service, body io.Reader, w http.ResponseWriter) ([]slog.Attr, error) {
	req, err := decodeSweepRequest(body)
	attrs := idAttrs(req.OrganizationID, req.WorkflowRunID)
	if err != nil {
		return attrs, err
	}
	res, err := svc.SweepRun(ctx, req)
	if err != nil {
		return attrs, err
	}
	WriteSweepResult(w, res)
	return append(attrs, slog.Bool("dryRun", req.DryRun), slog.Int("dismissed", res.Dismissed)), nil
}}

// idAttrs returns the log attributes of the ids a request gave.
func idAttrs(organizationID, workflowRunID string) []slog.Attr {
	var attrs []slog.Attr
	if organizationID != "" {
		attrs = append(attrs, slog.String("organizationId", truncate(organizationID)))
	}
	if workflowRunID != "" {
		attrs = append(attrs, slog.String("workflowRunId", truncate(workflowRunID)))
	}
	return attrs
}

// Authorize returns nil if header carries exactly one Authorization header,
// "Bearer <token>" with this token (the scheme in any case), and
// ErrUnauthorized otherwise, as the handlers check it: an empty token
// authorizes nothing, and the tokens are compared in constant time.
func Authorize(header http.Header, token string) error {
	if token == "" || !bearerMatches(header, sha256.Sum256([]byte(token))) {
		return ErrUnauthorized
	}
	return nil
}

// bearerMatches reports whether header carries exactly one Authorization
// header of the form "Bearer <token>" with the token of this hash.
func bearerMatches(header http.Header, tokenHash [sha256.Size]byte) bool {
	values := header.Values("Authorization")
	if len(values) != 1 {
		return false
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	token = strings.TrimLeft(token, " ")
	if token == "" {
		return false
	}
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], tokenHash[:]) == 1
}

// CheckContentType returns nil if header has one Content-Type,
// application/json, with no charset or charset UTF-8 (the only encoding JSON
// allows), and ErrUnsupportedMediaType otherwise, as the handlers check it.
// Two headers are refused, not read as the first: a proxy may have read the
// other.
func CheckContentType(header http.Header) error {
	values := header.Values("Content-Type")
	if len(values) != 1 {
		return ErrUnsupportedMediaType
	}
	mediaType, params, err := mime.ParseMediaType(values[0])
	if err != nil || mediaType != "application/json" {
		return ErrUnsupportedMediaType
	}
	if charset, ok := params["charset"]; ok && !strings.EqualFold(charset, "utf-8") {
		return ErrUnsupportedMediaType
	}
	return nil
}

// maxLoggedBytes bounds identifiers in the log: they are logged before
// validation, so they may be anything the caller sent.
const maxLoggedBytes = taskcreate.MaxIDBytes

func (h *handler) log(r *http.Request, attrs []slog.Attr, err error, status int, code string, elapsed time.Duration) {
	attrs = append([]slog.Attr{
		slog.String("method", r.Method),
		slog.Int("status", status),
		slog.Duration("duration", elapsed),
	}, attrs...)
	if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	level := slog.LevelInfo
	if err != nil {
		// The error's own text stays in the log: the client only gets the code.
		attrs = append(attrs, slog.String("errorCode", code), slog.String("error", err.Error()))
		level = slog.LevelWarn
		if status >= http.StatusInternalServerError {
			level = slog.LevelError
		}
	}
	h.logger.LogAttrs(r.Context(), level, h.op.name, attrs...)
}

func truncate(s string) string {
	if len(s) <= maxLoggedBytes {
		return s
	}
	return strings.ToValidUTF8(s[:maxLoggedBytes], "") + "..."
}
