package taskhttp

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/actionvector/tasks/taskcreate"
)

// DefaultMaxBodyBytes is the largest request body accepted unless
// Options.MaxBodyBytes says otherwise: room for a perimeter of about
// 650,000 pairs of UUID-shaped ids (about 100 bytes of JSON each). Raise it
// to accept perimeters up to taskcreate.DefaultMaxPerimeter.
const DefaultMaxBodyBytes = 64 << 20

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
	// Logger receives one line per request (nil: no logging). The token and
	// the Authorization header are never logged.
	Logger *slog.Logger
}

// NewHandler returns the handler of the task-create endpoint on svc. It
// serves whatever path it is mounted on. It fails when svc is nil or an
// option is invalid: an empty token would let anyone in, so it is an error,
// not a default.
func NewHandler(svc *taskcreate.Service, opts Options) (http.Handler, error) {
	switch {
	case svc == nil:
		return nil, errors.New("taskhttp: NewHandler: nil *taskcreate.Service")
	case strings.TrimSpace(opts.Token) == "":
		return nil, errors.New("taskhttp: NewHandler: Options.Token is empty; refusing to serve without authentication")
	case strings.IndexFunc(opts.Token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		// A header cannot carry such a token, so no caller could ever match it;
		// usually a stray newline from the file the token was read from.
		return nil, errors.New("taskhttp: NewHandler: Options.Token contains spaces or control characters")
	case opts.MaxBodyBytes < 0:
		return nil, fmt.Errorf("taskhttp: NewHandler: Options.MaxBodyBytes is negative (%d)", opts.MaxBodyBytes)
	case opts.Timeout < 0:
		return nil, fmt.Errorf("taskhttp: NewHandler: Options.Timeout is negative (%v)", opts.Timeout)
	case opts.MaxConcurrentCalls < 0:
		return nil, fmt.Errorf("taskhttp: NewHandler: Options.MaxConcurrentCalls is negative (%d)", opts.MaxConcurrentCalls)
	}
	h := &handler{
		svc:       svc,
		tokenHash: sha256.Sum256([]byte(opts.Token)),
		maxBody:   opts.MaxBodyBytes,
		timeout:   opts.Timeout,
		logger:    opts.Logger,
	}
	if h.maxBody == 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if opts.MaxConcurrentCalls > 0 {
		h.slots = make(chan struct{}, opts.MaxConcurrentCalls)
	}
	return h, nil
}

type handler struct {
	svc       *taskcreate.Service
	tokenHash [sha256.Size]byte // compared instead of the token, so the comparison takes the same time whatever its length
	maxBody   int64
	timeout   time.Duration
	slots     chan struct{} // one element per call being served; nil: no bound
	logger    *slog.Logger
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req, res, err := h.serve(w, r)
	status, code := http.StatusOK, ""
	if err != nil {
		status, code = writeError(w, err)
	} else {
		WriteResult(w, res)
	}
	if h.logger != nil {
		h.log(r, req, res, err, status, code, time.Since(start))
	}
}

// serve checks and decodes the request and runs it. It returns what it
// decoded, even on error, for the log.
func (h *handler) serve(w http.ResponseWriter, r *http.Request) (taskcreate.Request, taskcreate.Result, error) {
	if r.Method != http.MethodPost {
		return taskcreate.Request{}, taskcreate.Result{}, ErrMethodNotAllowed
	}
	if !h.authorized(r.Header) {
		return taskcreate.Request{}, taskcreate.Result{}, ErrUnauthorized
	}
	if !isJSON(r.Header) {
		return taskcreate.Request{}, taskcreate.Result{}, ErrUnsupportedMediaType
	}
	if r.ContentLength > h.maxBody {
		// Known too large from the header: answer before reading any of it.
		return taskcreate.Request{}, taskcreate.Result{}, &http.MaxBytesError{Limit: h.maxBody}
	}
	if h.slots != nil {
		select {
		case h.slots <- struct{}{}:
			defer func() { <-h.slots }()
		default:
			return taskcreate.Request{}, taskcreate.Result{}, ErrTooManyRequests
		}
	}
	req, err := decodeRequest(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		return req, taskcreate.Result{}, err
	}
	ctx := r.Context()
	if h.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.timeout)
		defer cancel()
	}
	res, err := h.svc.CreateTasks(ctx, req)
	return req, res, err
}

// authorized reports whether the request carries exactly one Authorization
// header of the form "Bearer <token>" with the configured token.
func (h *handler) authorized(header http.Header) bool {
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
	return subtle.ConstantTimeCompare(got[:], h.tokenHash[:]) == 1
}

// isJSON reports whether the request has one Content-Type, application/json,
// with no charset or charset UTF-8, the only encoding JSON allows. Two
// headers are refused, not read as the first: a proxy may have read the other.
func isJSON(header http.Header) bool {
	values := header.Values("Content-Type")
	if len(values) != 1 {
		return false
	}
	mediaType, params, err := mime.ParseMediaType(values[0])
	if err != nil || mediaType != "application/json" {
		return false
	}
	charset, ok := params["charset"]
	return !ok || strings.EqualFold(charset, "utf-8")
}

// maxLoggedBytes bounds identifiers in the log: they are logged before
// validation, so they may be anything the caller sent.
const maxLoggedBytes = taskcreate.MaxIDBytes

func (h *handler) log(r *http.Request, req taskcreate.Request, res taskcreate.Result, err error, status int, code string, elapsed time.Duration) {
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.Int("status", status),
		slog.Duration("duration", elapsed),
	}
	if req.OrganizationID != "" {
		attrs = append(attrs, slog.String("organizationId", truncate(req.OrganizationID)))
	}
	if req.WorkflowRunID != "" {
		attrs = append(attrs, slog.String("workflowRunId", truncate(req.WorkflowRunID)))
	}
	if req.Perimeter != nil {
		attrs = append(attrs, slog.Int("pairs", len(req.Perimeter)))
	}
	level := slog.LevelInfo
	if err == nil {
		attrs = append(attrs,
			slog.Int("created", res.Created),
			slog.Int("updated", res.Updated),
			slog.Int("suppressed", res.Suppressed),
			slog.Int("skipped", res.Skipped),
			slog.Int("unmatched", res.Unmatched))
	} else {
		// The error's own text stays in the log: the client only gets the code.
		attrs = append(attrs, slog.String("errorCode", code), slog.String("error", err.Error()))
		level = slog.LevelWarn
		if status >= http.StatusInternalServerError {
			level = slog.LevelError
		}
	}
	h.logger.LogAttrs(r.Context(), level, "task-create", attrs...)
}

func truncate(s string) string {
	if len(s) <= maxLoggedBytes {
		return s
	}
	return strings.ToValidUTF8(s[:maxLoggedBytes], "") + "..."
}
